"""featx_fuzzer: a libFuzzer target and its corpus as a regression test.

Under --config=fuzz (clang, .bazelrc) `name` is a libFuzzer binary:
    tools/bazel.sh run --config=fuzz //fuzz:flags_fuzzer -- -max_total_time=600 $PWD/fuzz/corpus/flags_fuzzer
Under the normal build it replays files given to it, and `name_regression`
runs the checked-in corpus (fuzz/corpus/NAME/, findings included) as a test.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

def featx_fuzzer(name, srcs, deps, size = "small"):
    corpus = native.glob(["corpus/%s/*" % name])
    cc_binary(
        name = name,
        srcs = srcs,
        deps = deps + select({
            "//fuzz:fuzzing": [],
            "//conditions:default": ["//fuzz:replay_main"],
        }),
        linkopts = select({
            "//fuzz:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        tags = ["fuzzer"],
    )
    cc_test(
        name = name + "_regression",
        size = size,
        srcs = srcs,
        deps = deps + ["//fuzz:replay_main"],
        data = corpus,
        args = ["fuzz/corpus/" + name],
    )
