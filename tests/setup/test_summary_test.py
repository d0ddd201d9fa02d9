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


def unittest_xml(passed):
    cases = "".join(f'<testcase name="c{i}"/>' for i in range(passed))
    counts = f'tests="{passed}" failures="0" skipped="0"'
    return f"<testsuites {counts}><testsuite {counts}>{cases}</testsuite></testsuites>"


class TestSummaryTest(unittest.TestCase):
    def summarize(self, log_lines, exit_code, xml_by_target, age_by_target=None, history=None):
        """age_by_target: seconds to date a target directory's test.xml back by;
        history: the file of the last green counts (a fresh one by default)."""
        with tempfile.TemporaryDirectory() as d:
            for target, text in xml_by_target.items():
                os.makedirs(os.path.join(d, target))
                path = os.path.join(d, target, "test.xml")
                with open(path, "w") as f:
                    f.write(text)
                age = (age_by_target or {}).get(target, 0)
                os.utime(path, (os.path.getmtime(path) - age,) * 2)
            log = os.path.join(d, "log")
            with open(log, "w") as f:
                f.write("\n".join(log_lines) + "\n")
            result = subprocess.run([sys.executable, SUMMARY, "--run", "label", log, d, str(exit_code),
                                     "--history", history or os.path.join(d, "history.json")],
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

    def test_a_sharded_target_counts_this_runs_shards_not_files_an_earlier_run_left(self):
        # Bazel leaves test.xml of an unsharded run and shard_1_of_3 of a
        # three-shard run in place; this run wrote the two shards of two.
        target = "tests/python/timm_test"
        xml = {target: unittest_xml(50), f"{target}/shard_1_of_3": unittest_xml(20),
               f"{target}/shard_1_of_2": unittest_xml(3), f"{target}/shard_2_of_2": unittest_xml(4)}
        age = {target: 3600, f"{target}/shard_1_of_3": 1800}
        code, lines = self.summarize(["//tests/python:timm_test    PASSED in 9.0s"], 0, xml, age)
        self.assertEqual(lines[-1], "7 passed, 0 failed")
        self.assertEqual(code, 0)

    def test_an_unsharded_run_after_a_sharded_one_counts_its_own_file(self):
        target = "tests/python/timm_test"
        xml = {target: unittest_xml(5), f"{target}/shard_1_of_2": unittest_xml(3)}
        code, lines = self.summarize(["//tests/python:timm_test    PASSED in 9.0s"], 0, xml,
                                     {f"{target}/shard_1_of_2": 600})
        self.assertEqual(lines[-1], "5 passed, 0 failed")

    def test_bazel_unittest_runs_a_contiguous_block_of_cases_in_each_shard(self):
        with tempfile.TemporaryDirectory() as d:
            script = os.path.join(d, "t.py")
            with open(script, "w") as f:
                f.write("import unittest, bazel_unittest\n"
                        "class T(unittest.TestCase):\n" +
                        "".join(f"    def test_{c}(self): print('ran {c}')\n" for c in "abcde") +
                        "bazel_unittest.main()\n")
            ran = []
            for index in range(2):
                status = os.path.join(d, f"status{index}")
                env = dict(os.environ, TEST_TOTAL_SHARDS="2", TEST_SHARD_INDEX=str(index),
                           TEST_SHARD_STATUS_FILE=status, XML_OUTPUT_FILE=os.path.join(d, f"{index}.xml"),
                           PYTHONPATH=os.path.dirname(os.path.abspath(bazel_unittest.__file__)))
                out = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True, timeout=60,
                                     check=True).stdout
                ran.append([line.split()[1] for line in out.splitlines() if line.startswith("ran ")])
                self.assertTrue(os.path.exists(status), "the runner must tell Bazel it shards")
        self.assertEqual(ran, [["a", "b", "c"], ["d", "e"]])

    def test_a_run_counting_fewer_cases_than_the_last_green_one_says_so(self):
        with tempfile.TemporaryDirectory() as d:
            history = os.path.join(d, "counts.json")
            target = "tests/python/t"
            code, lines = self.summarize(["//tests/python:t    PASSED in 1.0s"], 0, {target: unittest_xml(5)},
                                         history=history)
            self.assertFalse([line for line in lines if line.startswith("note:")], lines)
            code, lines = self.summarize(["//tests/python:t    PASSED in 1.0s"], 0, {target: unittest_xml(3)},
                                         history=history)
        self.assertIn("note: label counted 3 cases, 5 in the last green run here", lines)
        self.assertEqual(lines[-1], "3 passed, 0 failed")

    def test_a_run_without_skips_ends_with_passed_and_failed_only(self):
        code, lines = self.summarize(["//a:b    PASSED in 1.0s", "//a:c    FAILED TO BUILD"], 1, {})
        self.assertEqual(lines[-1], "1 passed, 1 failed")
        self.assertEqual(code, 1)


if __name__ == "__main__":
    SUMMARY = sys.argv.pop(1)
    bazel_unittest.main()
