"""Real servers on localhost for the host tests and benches: free ports, a
TorchServe started and stopped with everything it spawned, HTTP helpers.

    with TorchServe(workdir, env={"FEATX_FLAGS": "..."}) as ts:
        ts.register("resnet18.mar")
        ts.predict("resnet18", png_bytes)
    # every process it started is gone, every port free again
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

BIN = os.path.dirname(sys.executable)  # the venv's: torchserve, torch-model-archiver


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """True while some process listens on TCP `port` (any address). Closed
    connections in TIME_WAIT do not count: nothing serves on them."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                return True
    return False


def http(method, url, body=None, timeout=120, content_type="application/octet-stream"):
    """(status, body bytes); HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": content_type} if body is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


def session_processes(sid):
    """Pids of the live processes in session `sid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getsid(int(entry)) == sid:
                with open(f"/proc/{entry}/stat") as f:
                    if f.read().split(") ", 1)[1][0] != "Z":
                        found.append(int(entry))
        except (ProcessLookupError, PermissionError, FileNotFoundError):
            pass
    return found


def archive(workdir, name, serialized_file, handler, extra_files=(), config_file=None):
    """A .mar as users make one (torch-model-archiver); returns its file name."""
    store = os.path.join(workdir, "model_store")
    os.makedirs(store, exist_ok=True)
    args = [os.path.join(BIN, "torch-model-archiver"), "--model-name", name, "--version", "1.0",
            "--serialized-file", serialized_file, "--handler", handler, "--export-path", store, "--force"]
    if extra_files:
        args += ["--extra-files", ",".join(extra_files)]
    if config_file:
        args += ["--config-file", config_file]
    subprocess.run(args, check=True, capture_output=True, timeout=300)
    return name + ".mar"


class TorchServe:
    """TorchServe on free localhost ports, in its own session and temp dir (its
    pid file lives in $TMPDIR), its logs in workdir/logs."""

    def __init__(self, workdir, env=None):
        self.workdir = workdir
        self.logs = os.path.join(workdir, "logs")
        self.ports = {k: free_port() for k in ("inference", "management", "metrics", "grpc_inference",
                                               "grpc_management")}
        self.env = dict(os.environ, LOG_LOCATION=self.logs, METRICS_LOCATION=self.logs,
                        TMPDIR=os.path.join(workdir, "tmp"), **(env or {}))
        self.process = None

    def url(self, api, path):
        return f"http://127.0.0.1:{self.ports[api]}/{path}"

    def start(self):
        os.makedirs(self.env["TMPDIR"], exist_ok=True)
        config = os.path.join(self.workdir, "config.properties")
        with open(config, "w") as f:
            f.write("\n".join([
                f"inference_address=http://127.0.0.1:{self.ports['inference']}",
                f"management_address=http://127.0.0.1:{self.ports['management']}",
                f"metrics_address=http://127.0.0.1:{self.ports['metrics']}",
                f"grpc_inference_port={self.ports['grpc_inference']}",
                f"grpc_management_port={self.ports['grpc_management']}",
                f"model_store={os.path.join(self.workdir, 'model_store')}",
                "default_workers_per_model=1",
                "disable_system_metrics=true",
                "install_py_dep_per_model=false",
                "default_response_timeout=300",
                "",
            ]))
        self.stdout = open(os.path.join(self.workdir, "torchserve.out"), "w")
        self.process = subprocess.Popen(
            [os.path.join(BIN, "torchserve"), "--start", "--foreground", "--ncs", "--disable-token-auth",
             "--enable-model-api", "--ts-config", config, "--model-store", os.path.join(self.workdir, "model_store")],
            env=self.env, stdout=self.stdout, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.workdir)
        wait_until(lambda: self._answers() or self.process.poll() is not None, 180, "TorchServe to start")
        if self.process.poll() is not None:
            raise RuntimeError(f"TorchServe exited with {self.process.returncode}: {self.output()[-3000:]}")
        return self

    def _answers(self):
        try:
            return http("GET", self.url("management", "models"), timeout=2)[0] == 200
        except OSError:
            return False

    def register(self, mar, workers=1):
        """(status, answer) of a synchronous registration."""
        status, body = http("POST", self.url("management", f"models?url={mar}&initial_workers={workers}"
                                             "&synchronous=true"), timeout=300)
        return status, body.decode(errors="replace")

    def unregister(self, name):
        return http("DELETE", self.url("management", f"models/{name}"), timeout=120)

    def predict(self, model, body):
        status, answer = http("POST", self.url("inference", f"predictions/{model}"), body)
        if status != 200:
            raise AssertionError(f"predictions/{model}: HTTP {status}: {answer[:500]!r}; the model log ends:\n"
                                 f"{self.model_log()[-3000:]}")
        return json.loads(answer)

    def model_log(self):
        path = os.path.join(self.logs, "model_log.log")
        return open(path, errors="replace").read() if os.path.exists(path) else ""

    def output(self):
        return open(os.path.join(self.workdir, "torchserve.out"), errors="replace").read()

    def stop(self):
        """Stops TorchServe and everything it started; returns the pids still
        alive after 60 s (none, unless something is wrong)."""
        if self.process is None:
            return []
        sid = self.process.pid
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 30)):
            try:
                os.killpg(sid, sig)
            except ProcessLookupError:
                pass
            try:
                wait_until(lambda: not session_processes(sid), wait, "TorchServe's processes to exit")
                break
            except TimeoutError:
                continue
        self.process.wait(timeout=30)
        self.process = None
        self.stdout.close()
        return session_processes(sid)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
