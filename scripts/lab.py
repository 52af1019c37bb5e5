"""A one-instance lab for interop checks: starts the real `cenacle serve` on a temporary data
folder and a free port, creates an admin, a member and a group, and stops it on exit."""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AP = "application/activity+json"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, binary=None):
        self.binary = binary or os.environ.get("CENACLE_BIN") or os.path.join(REPO, "target", "debug", "cenacle")
        self.port = free_port()
        self.base = f"http://localhost:{self.port}"
        self.data = tempfile.TemporaryDirectory(prefix="cenacle-lab-")
        self.proc = None

    def __enter__(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CENACLE_") and k != "DATABASE_URL"}
        env["CENACLE_SERVER__PUBLIC_URL"] = self.base
        # Benchmarks register and sign in many members from one address: the per-address
        # limits that guard a real instance would refuse them (429) before the run starts.
        env["CENACLE_LIMITS__REGISTER_PER_IP"] = "1000000"
        env["CENACLE_LIMITS__LOGIN_PER_IP"] = "1000000"
        self.log = open(os.path.join(self.data.name, "server.log"), "w")
        self.proc = subprocess.Popen(
            [self.binary, "--data-dir", self.data.name, "serve", "--bind", f"127.0.0.1:{self.port}"],
            stdout=subprocess.PIPE, stderr=self.log, env=env, text=True)
        token, deadline = None, time.time() + 90
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the server exited; see " + self.log.name)
            if line.startswith("setup token: "):
                token = line.split(": ", 1)[1].strip()
            if line.startswith("listening on "):
                break
        admin = self.post("/api/v1/setup", {"setup_token": token, "username": "admin", "password": "correct horse battery"})
        self.admin = self.post("/api/v1/account/login", {"username": "admin", "password": "correct horse battery"})["token"]
        self.post("/api/v1/account/register", {"username": "marie", "password": "correct horse battery"})
        self.post("/api/v1/groups", {"name": "rust", "title": "Rust", "description": "Entraide"}, self.admin)
        question = self.post("/api/v1/groups/rust/posts", {"kind": "question", "title": "Pourquoi Rust ?",
                                                         "body": "Une **question**", "tags": ["rust"]}, self.admin)
        answer = self.post(f"/api/v1/posts/{question['post']['id']}/comments", {"body": "Pour la sûreté."}, self.admin)
        self.post(f"/api/v1/posts/{question['post']['id']}/accepted-answer", {"comment_id": answer["id"]}, self.admin,
                  method="PUT")
        self.post("/api/v1/groups/rust/posts", {"kind": "idea", "title": "Un atelier"}, self.admin)
        # marie champions rust: her Person carries `cenacle:champion` (checked like every term).
        self.post("/api/v1/champions/charter", {"text_en": "Help kindly.", "text_fr": "Aidez avec bienveillance."},
                  self.admin)
        self.post("/api/v1/champions/nominations", {"person": "marie", "groups": ["rust"]}, self.admin)
        marie = self.post("/api/v1/account/login", {"username": "marie", "password": "correct horse battery"})["token"]
        self.post("/api/v1/champions/me/invitation", {"accept": True}, marie)
        self.post("/api/v1/champions/me/charter", {"version": 1}, marie)
        self.DOCUMENTS = Lab.DOCUMENTS + [f"/p/{question['post']['id']}", f"/c/{answer['id']}"]
        del admin
        return self

    def __exit__(self, *exc):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        self.data.cleanup()

    def post(self, path, body, token=None, method="POST"):
        req = urllib.request.Request(self.base + path, data=json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json"})
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read() or b"null")

    def fetch(self, path, accept=AP):
        req = urllib.request.Request(self.base + path, headers={"Accept": accept})
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())

    # The documents other servers fetch from us.
    DOCUMENTS = ["/u/marie", "/u/marie/outbox", "/u/marie/followers", "/u/marie/following",
                 "/g/rust", "/g/rust/outbox", "/g/rust/followers", "/g/rust/moderators", "/g/rust/featured",
                 "/actor"]


if __name__ == "__main__":
    # python3 scripts/lab.py COMMAND…: runs COMMAND against a fresh instance (LAB_BASE set).
    import sys
    with Lab() as lab:
        env = dict(os.environ, LAB_BASE=lab.base)
        sys.exit(subprocess.call(sys.argv[1:], env=env))
