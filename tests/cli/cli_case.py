"""What every command-line test needs: run `featx` and check a clean failure."""
import subprocess
import unittest


def run(featx, *args, env=None):
    return subprocess.run([featx, *args], capture_output=True, text=True, timeout=300, env=env)


class CliTestCase(unittest.TestCase):
    def assertCleanError(self, result, *fragments):
        """Failed with a message, not a crash or a backtrace."""
        self.assertIn(result.returncode, (1, 2), result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, result.stderr)
        for crash in ("terminate called", "Segmentation", "Exception raised from", "frame #"):
            self.assertNotIn(crash, result.stderr)
