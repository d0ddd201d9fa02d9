"""tools/test_summary.py: the closing line counts every case once, as passed,
failed or skipped, from gtest's and bazel_unittest's JUnit XML, and a target
without results as one failure."""
import os
import subprocess
import sys
import tempfile
import unittest

import bazel_unittest

SUMMARY = None  # tools/test_summary.py, the first argument

GTEST_XML = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" failures="1" disabled="0" errors="0" name="AllTests">
  <testsuite name="Modes" tests="3" failures="1" disabled="0" skipped="1" errors="0">
    <testcase name="Dict" status="run" result="completed" classname="Modes" />
    <testcase name="Tuple" status="run" result="skipped" classname="Modes"><skipped message="lacks"/></testcase>
    <testcase name="Tap" status="run" result="completed" classname="Modes"><failure message="x"/></testcase>
  </testsuite>
</testsuites>
"""


class TestSummaryTest(unittest.TestCase):
    def summarize(self, log_lines, exit_code, xml_by_target):
        with tempfile.TemporaryDirectory() as d:
            for target, text in xml_by_target.items():
                os.makedirs(os.path.join(d, target))
                with open(os.path.join(d, target, "test.xml"), "w") as f:
                    f.write(text)
            log = os.path.join(d, "log")
            with open(log, "w") as f:
                f.write("\n".join(log_lines) + "\n")
            result = subprocess.run([sys.executable, SUMMARY, "--run", "label", log, d, str(exit_code)],
                                    capture_output=True, text=True, timeout=60)
        return result.returncode, result.stdout.splitlines()

    def test_gtest_skips_are_counted_as_skipped_not_passed(self):
        code, lines = self.summarize(["//tests/extract:modes_test    FAILED in 3.0s"], 3,
                                     {"tests/extract/modes_test": GTEST_XML})
        self.assertEqual(lines[-1], "1 passed, 1 failed, 1 skipped")
        self.assertEqual(code, 1)

    def test_unittest_skips_written_by_bazel_unittest_are_counted_as_skipped(self):
        with tempfile.TemporaryDirectory() as d:
            script = os.path.join(d, "t.py")
            with open(script, "w") as f:
                f.write("import unittest, bazel_unittest\n"
                        "class T(unittest.TestCase):\n"
                        "    def test_a(self): pass\n"
                        "    def test_b(self): self.skipTest('no second torch')\n"
                        "bazel_unittest.main()\n")
            env = dict(os.environ, XML_OUTPUT_FILE=os.path.join(d, "t.xml"),
                       PYTHONPATH=os.path.dirname(os.path.abspath(bazel_unittest.__file__)))
            subprocess.run([sys.executable, script], env=env, capture_output=True, timeout=60, check=True)
            with open(os.path.join(d, "t.xml")) as f:
                xml = f.read()
        code, lines = self.summarize(["//tests/python:t    PASSED in 1.0s"], 0, {"tests/python/t": xml})
        self.assertEqual(lines[-1], "1 passed, 0 failed, 1 skipped")
        self.assertEqual(code, 0)

    def test_a_run_without_skips_ends_with_passed_and_failed_only(self):
        code, lines = self.summarize(["//a:b    PASSED in 1.0s", "//a:c    FAILED TO BUILD"], 1, {})
        self.assertEqual(lines[-1], "1 passed, 1 failed")
        self.assertEqual(code, 1)


if __name__ == "__main__":
    SUMMARY = sys.argv.pop(1)
    bazel_unittest.main()
