"""featx_fuzzer: a libFuzzer target and its corpus as a regression test.

Under --config=fuzz (clang, .bazelrc) `name` is a libFuzzer binary:
    tools/bazel.sh run --config=fuzz //fuzz:flags_fuzzer -- -max_total_time=600 $PWD/fuzz/corpus/flags_fuzzer
Under the normal build it replays files given to it, and `name_regression`
runs the checked-in corpus (fuzz/corpus/NAME/, findings included) as a test.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

def featx_fuzzer(name, srcs, deps, size = "small"):
    corpus = native.glob(["corpus/%s/*" % name])

    # The fuzz target compiled once, for the fuzzer and its regression test.
    cc_library(
        name = name + "_target",
        srcs = srcs,
        deps = deps,
        alwayslink = True,
    )
    cc_binary(
        name = name,
        deps = [name + "_target"] + select({
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
        deps = [name + "_target", "//fuzz:replay_main"],
        data = corpus,
        args = ["fuzz/corpus/" + name],
    )
