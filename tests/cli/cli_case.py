"""What every command-line test needs: run `featx` and check a clean failure."""
import subprocess
import unittest


def run(featx, *args, env=None):
    return subprocess.run([featx, *args], capture_output=True, text=True, timeout=300, env=env)


class CliTestCase(unittest.TestCase):
    def assertCleanError(self, result, *fragments, code=2):
        """Failed with a message, not a crash or a backtrace, and the exit code
        plugin/status.h gives its kind of error: 2 for a request that is wrong
        (the default), 1 for one that could not be done (I/O, featx itself)."""
        self.assertEqual(result.returncode, code, result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, result.stderr)
        for crash in ("terminate called", "Segmentation", "Exception raised from", "frame #"):
            self.assertNotIn(crash, result.stderr)
