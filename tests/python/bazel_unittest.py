"""Runs a unittest module under `bazel test` and reports its cases to Bazel.

Bazel reads per-case results from the JUnit XML file named by XML_OUTPUT_FILE;
without it a Python target would count as a single test. A target with
shard_count runs a contiguous block of the cases in each shard (Bazel's
TEST_TOTAL_SHARDS / TEST_SHARD_INDEX), so the cases of one model, named alike,
mostly share a process and its caches.
"""
import os
import sys
import unittest
from xml.sax.saxutils import quoteattr


class _Recorder(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = []

    def addSuccess(self, test):
        super().addSuccess(test)
        self.cases.append((test.id(), None))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.cases.append((test.id(), self._exc_info_to_string(err, test)))

    def addError(self, test, err):
        super().addError(test, err)
        self.cases.append((test.id(), self._exc_info_to_string(err, test)))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.cases.append((test.id(), _Skipped(reason)))


class _Skipped(str):
    """A skipped case's reason, told apart from a failure's traceback."""


def _write_junit(path, suite_name, result):
    failed = sum(1 for _, err in result.cases if err and not isinstance(err, _Skipped))
    skipped = sum(1 for _, err in result.cases if isinstance(err, _Skipped))
    counts = f'tests="{len(result.cases)}" failures="{failed}" errors="0" skipped="{skipped}"'
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<testsuites {counts}>",
        f"<testsuite name={quoteattr(suite_name)} {counts}>",
    ]
    for case_id, err in result.cases:
        lines.append(f"<testcase name={quoteattr(case_id)}>")
        if isinstance(err, _Skipped):
            lines.append(f"<skipped message={quoteattr(err)}/>")
        elif err:
            lines.append(f"<failure message={quoteattr(err.splitlines()[-1])}>{quoteattr(err)[1:-1]}</failure>")
        lines.append("</testcase>")
    lines += ["</testsuite>", "</testsuites>"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def _cases(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from _cases(test)
        else:
            yield test


class _ShardLoader(unittest.TestLoader):
    """Loads this shard's block of the cases, in the loader's (sorted) order."""

    def _shard(self, suite):
        total = int(os.environ.get("TEST_TOTAL_SHARDS", "1"))
        if total <= 1:
            return suite
        if os.environ.get("TEST_SHARD_STATUS_FILE"):
            # Tells Bazel this runner shards (else it runs every case in each shard).
            open(os.environ["TEST_SHARD_STATUS_FILE"], "w").close()
        index = int(os.environ["TEST_SHARD_INDEX"])
        cases = list(_cases(suite))
        return unittest.TestSuite(c for i, c in enumerate(cases) if i * total // len(cases) == index)

    def loadTestsFromModule(self, *args, **kwargs):
        return self._shard(super().loadTestsFromModule(*args, **kwargs))

    def loadTestsFromNames(self, *args, **kwargs):
        return self._shard(super().loadTestsFromNames(*args, **kwargs))


def main(module_name="__main__"):
    program = unittest.main(
        module=module_name,
        exit=False,
        testLoader=_ShardLoader(),
        testRunner=unittest.TextTestRunner(resultclass=_Recorder, verbosity=2),
    )
    result = program.result
    if os.environ.get("XML_OUTPUT_FILE"):
        _write_junit(os.environ["XML_OUTPUT_FILE"], os.path.basename(sys.argv[0]), result)
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
