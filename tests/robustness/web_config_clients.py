#!/usr/bin/env python3
"""Every key of --web.config.file against a running exporter, with real clients (issue 20):
openssl s_client for versions, cipher suites and their order, curves and client certificates;
curl for headers, basic auth and client certificates; Python's http.client for a keep-alive
connection that must survive a certificate rotation.

  versions      max_version TLS12: TLS 1.3 refused, TLS 1.2 taken; min_version TLS13: the reverse
  ciphers       cipher_suites in the server's order (prefer_server_cipher_suites true) or the
                client's (false); a suite not listed is refused; TLS 1.3 keeps its own suites
  curves        curve_preferences [CurveP384]: P-256 alone refused, P-384 taken and chosen
  headers_auth  http_server_config.headers on 200, 401 and 404 answers; basic_auth_users
  client_auth   the five client_auth_type values with no, an unknown and a trusted client
                certificate; client_allowed_sans; inline cert, key and client_ca
  rotation      cert/key files replaced (symlink swap, as a Kubernetes Secret does): a new
                handshake gets the new certificate without a restart, an open keep-alive
                connection still answers; a broken pair keeps the old one and is counted;
                a replaced client_ca_file is taken too
  config_watch  --config.watch-interval: a ConfigMap-style symlink swap of the config file is
                reloaded; a broken one is counted as a failed reload
  refusals      --config.check refuses keys it does not honour, naming file, line and key

Usage: web_config_clients.py --exporter <binary> [--only name,...]
Exit 0 passed, 1 failed, 77 skipped (no openssl or curl).
"""
import argparse
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_peers as hp  # noqa: E402

CONFIG = ('resolver:\n  use_resolv_conf: false\n  root_trust_anchor_file: ""\n'
          '  forwarders: ["127.0.0.1@9"]\ndomains: [{domains}]\n')
SECRET_HASH = "$2b$10$PFaQ8hTTHFyxZcLXiCYPwuOdjYqmy39m/8eGTz0hi8EbFgCdWtk9W"  # "secret"
HEADERS = {"Strict-Transport-Security": "max-age=31536000", "X-Frame-Options": "deny",
           "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'",
           "X-XSS-Protection": "0"}


def run(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=30, **kw)


class Pki:
    """Two CAs, server certificates (RSA, so the RSA suites apply) and client certificates."""

    def __init__(self, d):
        self.d = d
        for ca in ("ca", "other-ca"):
            self._ca(ca)
        self.leaf("first", "ca", "DNS:localhost,IP:127.0.0.1", rsa=True)
        self.leaf("second", "ca", "DNS:localhost,IP:127.0.0.1", rsa=True)
        self.leaf("client", "ca", "DNS:prometheus.test")
        self.leaf("client-other-san", "ca", "DNS:intruder.test")
        self.leaf("client-other-ca", "other-ca", "DNS:prometheus.test")

    def p(self, name):
        return os.path.join(self.d, name)

    def _ca(self, name):
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "2", "-subj", "/CN=" + name, "-keyout", self.p(name + ".key"),
            "-out", self.p(name + ".crt"), check=True)

    def leaf(self, name, ca, san, rsa=False):
        key = ["rsa:2048"] if rsa else ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        run("openssl", "req", "-newkey", *key, "-nodes", "-subj", "/CN=" + name,
            "-keyout", self.p(name + ".key"), "-out", self.p(name + ".csr"), check=True)
        with open(self.p(name + ".ext"), "w") as f:
            f.write(f"subjectAltName={san}\n")
        run("openssl", "x509", "-req", "-in", self.p(name + ".csr"), "-CA", self.p(ca + ".crt"),
            "-CAkey", self.p(ca + ".key"), "-CAcreateserial", "-days", "2",
            "-extfile", self.p(name + ".ext"), "-out", self.p(name + ".crt"), check=True)


class Exporter:
    def __init__(self, binary, tmp, web_text, extra=(), domains="example.com"):
        self.tmp = tmp
        self.config = os.path.join(tmp, "config.yml")
        self.web = os.path.join(tmp, "web.yml")
        if not os.path.islink(self.config):
            with open(self.config, "w") as f:
                f.write(CONFIG.format(domains=domains))
        with open(self.web, "w") as f:
            f.write(web_text)
        self.port = hp.free_port()
        storage = tempfile.mkdtemp(dir=tmp, prefix="state-")
        self.log = open(os.path.join(tmp, "exporter.log"), "a")
        self.proc = subprocess.Popen(
            [binary, "--config.file", self.config, "--web.config.file", self.web,
             "--web.listen-address", f"127.0.0.1:{self.port}", "--storage.path", storage,
             *extra], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"exporter exited {self.proc.returncode}, see {self.log.name}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("exporter did not listen")

    def stop(self):
        # SIGKILL: a graceful stop waits up to 5 s for the resolver self-test (no DNS here),
        # and stopping is not what this test is about.
        self.proc.kill()
        self.proc.wait()
        self.log.close()


def s_client(port, *args):
    """openssl s_client -brief: (handshake ok, its description)."""
    p = subprocess.run(["openssl", "s_client", "-brief", "-connect", f"127.0.0.1:{port}",
                        "-servername", "localhost", *args], input="", capture_output=True,
                       text=True, timeout=20)
    out = p.stdout + p.stderr
    ok = "CONNECTION ESTABLISHED" in out and "Ciphersuite:" in out
    return ok, out


def field(out, name):
    for line in out.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def curl(pki, port, path="/-/healthy", *args):
    """(HTTP status or 0, header lines) from curl over TLS with the test CA."""
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-D", "-", "--max-time", "10",
                        "--cacert", pki.p("ca.crt"), *args, f"https://localhost:{port}{path}"],
                       capture_output=True, text=True, timeout=20)
    lines = p.stdout.splitlines()
    status = int(lines[0].split()[1]) if p.returncode == 0 and lines else 0
    return status, lines


def tls_web(pki, cert="first", extra=""):
    return (f"tls_server_config:\n  cert_file: {pki.p(cert + '.crt')}\n"
            f"  key_file: {pki.p(cert + '.key')}\n{extra}")


class Checks:
    def __init__(self):
        self.failures = []

    def expect(self, name, cond, detail=""):
        print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"))
        if not cond:
            self.failures.append(name)


def t_versions(binary, tmp, pki, c):
    # (key, refused client version, taken client version)
    for key, refused, taken in (("max_version: TLS12", "1_3", "1_2"), ("min_version: TLS13", "1_2", "1_3")):
        e = Exporter(binary, tmp, tls_web(pki, extra=f"  {key}\n"))
        try:
            ok, out = s_client(e.port, "-tls" + refused)
            c.expect(f"{key} refuses TLS {refused}", not ok, out)
            ok, out = s_client(e.port, "-tls" + taken)
            c.expect(f"{key} takes TLS {taken}",
                     ok and field(out, "Protocol version") == "TLSv" + taken.replace("_", "."), out)
        finally:
            e.stop()


def t_ciphers(binary, tmp, pki, c):
    client_order = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"
    for prefer, want in (("true", "ECDHE-RSA-AES256-GCM-SHA384"), ("false", "ECDHE-RSA-AES128-GCM-SHA256")):
        e = Exporter(binary, tmp, tls_web(pki, extra=(
            "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n"
            f"  prefer_server_cipher_suites: {prefer}\n")))
        try:
            ok, out = s_client(e.port, "-tls1_2", "-cipher", client_order)
            c.expect(f"prefer_server_cipher_suites {prefer}: {want} chosen",
                     ok and field(out, "Ciphersuite") == want, out)
            if prefer == "true":
                ok, out = s_client(e.port, "-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305")
                c.expect("a suite not in cipher_suites is refused", not ok, out)
                ok, out = s_client(e.port, "-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256")
                c.expect("TLS 1.3 suites are not configured away",
                         ok and field(out, "Ciphersuite") == "TLS_CHACHA20_POLY1305_SHA256", out)
        finally:
            e.stop()


def t_curves(binary, tmp, pki, c):
    e = Exporter(binary, tmp, tls_web(pki, extra="  curve_preferences: [CurveP384]\n"))
    try:
        # TLS 1.2 with ECDHE suites only: an RSA key exchange needs no curve.
        for version in (["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"], ["-tls1_3"]):
            ok, out = s_client(e.port, *version, "-groups", "P-256")
            c.expect(f"curve_preferences [CurveP384] refuses P-256 ({version[0]})", not ok, out)
            ok, out = s_client(e.port, *version, "-groups", "X25519:P-384")
            temp = field(out, "Server Temp Key") or field(out, "Peer Temp Key")
            c.expect(f"curve_preferences [CurveP384] chooses P-384 ({version[0]})",
                     ok and temp.split(",")[1].strip() in ("P-384", "secp384r1"), out)
    finally:
        e.stop()


def t_headers_auth(binary, tmp, pki, c):
    headers = "".join(f"    {k}: \"{v}\"\n" for k, v in HEADERS.items())
    e = Exporter(binary, tmp, tls_web(pki) + f"http_server_config:\n  http2: false\n  headers:\n{headers}"
                 f"basic_auth_users:\n  prometheus: {SECRET_HASH}\n")
    try:
        for label, path, args, want in (("200", "/metrics", ["-u", "prometheus:secret"], 200),
                                        ("401", "/metrics", [], 401),
                                        ("401 wrong password", "/metrics", ["-u", "prometheus:wrong"], 401),
                                        ("404", "/nothing-here", ["-u", "prometheus:secret"], 404)):
            status, lines = curl(pki, e.port, path, *args)
            got = {l.split(":", 1)[0]: l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
            c.expect(f"basic auth / status {label}", status == want, f"status {status}")
            c.expect(f"headers on the {label} answer", all(got.get(k) == v for k, v in HEADERS.items()), lines)
    finally:
        e.stop()


def t_client_auth(binary, tmp, pki, c):
    none, other, good = [], ["--cert", pki.p("client-other-ca.crt"), "--key", pki.p("client-other-ca.key")], \
        ["--cert", pki.p("client.crt"), "--key", pki.p("client.key")]
    ca = f"  client_ca_file: {pki.p('ca.crt')}\n"
    # (client_auth_type, needs a CA, answers for: no certificate, unknown CA, trusted)
    table = (("NoClientCert", False, (True, True, True)),
             ("RequestClientCert", False, (True, True, True)),
             ("RequireAnyClientCert", False, (False, True, True)),
             ("VerifyClientCertIfGiven", True, (True, False, True)),
             ("RequireAndVerifyClientCert", True, (False, False, True)))
    for mode, needs_ca, wants in table:
        e = Exporter(binary, tmp, tls_web(pki, extra=f"  client_auth_type: {mode}\n" + (ca if needs_ca else "")))
        try:
            for label, args, want in zip(("no certificate", "unknown CA", "trusted"), (none, other, good), wants):
                status, _ = curl(pki, e.port, "/-/healthy", *args)
                c.expect(f"{mode}, {label}: {'served' if want else 'refused'}", (status == 200) == want,
                         f"status {status}")
        finally:
            e.stop()
    # Inline PEM and allowed SANs.
    indent = lambda path: "".join("    " + l + "\n" for l in open(path).read().splitlines())
    web = ("tls_server_config:\n  cert: |\n" + indent(pki.p("first.crt")) + "  key: |\n" + indent(pki.p("first.key")) +
           "  client_ca: |\n" + indent(pki.p("ca.crt")) + "  client_auth_type: RequireAndVerifyClientCert\n"
           "  client_allowed_sans: [prometheus.test]\n")
    e = Exporter(binary, tmp, web)
    try:
        status, _ = curl(pki, e.port, "/-/healthy", *good)
        c.expect("inline cert/key/client_ca, allowed SAN: served", status == 200, f"status {status}")
        status, _ = curl(pki, e.port, "/-/healthy", "--cert", pki.p("client-other-san.crt"),
                         "--key", pki.p("client-other-san.key"))
        c.expect("client_allowed_sans: a trusted certificate with another SAN is refused", status == 0,
                 f"status {status}")
    finally:
        e.stop()


def swap_link(link, target):
    """Points `link` at `target` in one rename, as Kubernetes updates a Secret or ConfigMap."""
    tmp_link = link + ".new"
    os.symlink(target, tmp_link)
    os.replace(tmp_link, link)


def served_cn(port, ca):
    ctx = ssl.create_default_context(cafile=ca)
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                         server_hostname="localhost") as s:
        return dict(x[0] for x in s.getpeercert()["subject"])["commonName"]


def wait_for(what, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if what():
            return True
        time.sleep(0.2)
    return what()


def t_rotation(binary, tmp, pki, c):
    live = os.path.join(tmp, "live")
    os.makedirs(live, exist_ok=True)
    for name in ("tls.crt", "tls.key", "ca.crt"):
        if os.path.lexists(os.path.join(live, name)):
            os.unlink(os.path.join(live, name))
    os.symlink(pki.p("first.crt"), os.path.join(live, "tls.crt"))
    os.symlink(pki.p("first.key"), os.path.join(live, "tls.key"))
    os.symlink(pki.p("other-ca.crt"), os.path.join(live, "ca.crt"))
    web = (f"tls_server_config:\n  cert_file: {live}/tls.crt\n  key_file: {live}/tls.key\n"
           f"  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: {live}/ca.crt\n")
    e = Exporter(binary, tmp, web)
    try:
        ctx = ssl.create_default_context(cafile=pki.p("ca.crt"))
        kept = http.client.HTTPSConnection("localhost", e.port, context=ctx, timeout=10)
        kept.request("GET", "/-/healthy")
        r = kept.getresponse()
        r.read()
        c.expect("keep-alive connection before the rotation", r.status == 200, r.status)
        c.expect("first certificate served", served_cn(e.port, pki.p("ca.crt")) == "first")

        swap_link(os.path.join(live, "tls.key"), pki.p("second.key"))
        swap_link(os.path.join(live, "tls.crt"), pki.p("second.crt"))
        c.expect("after the files changed, a new handshake gets the new certificate (no restart)",
                 wait_for(lambda: served_cn(e.port, pki.p("ca.crt")) == "second"))
        kept.request("GET", "/-/healthy")
        r = kept.getresponse()
        r.read()
        c.expect("the keep-alive connection opened before still answers", r.status == 200, r.status)
        c.expect("... over its old certificate",
                 dict(x[0] for x in kept.sock.getpeercert()["subject"])["commonName"] == "first")
        kept.close()

        swap_link(os.path.join(live, "tls.key"), pki.p("first.key"))  # does not match second.crt
        status = {}

        def counted():
            s, body = metrics(e.port, pki)
            status["body"] = body
            return s == 200 and "mailtls_web_tls_reload_failures_total 1" in body
        c.expect("a key that does not match is counted", wait_for(counted), status.get("body", "")[-400:])
        c.expect("... and the certificate in use stays", served_cn(e.port, pki.p("ca.crt")) == "second")

        good = ["--cert", pki.p("client.crt"), "--key", pki.p("client.key")]
        st, _ = curl(pki, e.port, "/-/healthy", *good)
        c.expect("client certificate of a CA not in client_ca_file refused", st == 0, st)
        swap_link(os.path.join(live, "tls.key"), pki.p("second.key"))
        swap_link(os.path.join(live, "ca.crt"), pki.p("ca.crt"))
        c.expect("a replaced client_ca_file is taken without a restart",
                 wait_for(lambda: curl(pki, e.port, "/-/healthy", *good)[0] == 200))
        c.expect("the process is the same one", e.proc.poll() is None)
    finally:
        e.stop()


def metrics(port, pki, scheme="https"):
    p = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", pki.p("ca.crt"),
                        "-w", "\n%{http_code}", f"{scheme}://localhost:{port}/metrics"],
                       capture_output=True, text=True, timeout=20)
    body, _, code = p.stdout.rpartition("\n")
    return (int(code) if code.isdigit() else 0), body


def t_config_watch(binary, tmp, pki, c):
    data = os.path.join(tmp, "cm")
    os.makedirs(data, exist_ok=True)
    versions = {}
    for name, text in (("v1", CONFIG.format(domains="example.com")),
                       ("v2", CONFIG.format(domains="example.com, example.net")),
                       ("broken", "domains: [\n")):
        os.makedirs(os.path.join(data, name), exist_ok=True)
        versions[name] = os.path.join(data, name)
        with open(os.path.join(data, name, "config.yml"), "w") as f:
            f.write(text)
    link = os.path.join(data, "..data")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(versions["v1"], link)
    config = os.path.join(tmp, "config.yml")
    if os.path.lexists(config):
        os.unlink(config)
    os.symlink(os.path.join(link, "config.yml"), config)
    e = Exporter(binary, tmp, tls_web(pki), extra=["--config.watch-interval=200ms"])
    try:
        body = {}

        def has(text):
            def f():
                s, b = metrics(e.port, pki)
                body["last"] = b
                return s == 200 and text in b
            return f
        c.expect("watch: one domain at start", has("mailtls_domains_configured 1")())
        swap_link(link, versions["v2"])
        c.expect("watch: a ConfigMap-style swap is reloaded without a signal",
                 wait_for(has("mailtls_domains_configured 2")), body.get("last", "")[-300:])
        swap_link(link, versions["broken"])
        c.expect("watch: a broken config is a failed reload, the running one stays",
                 wait_for(has("mailtls_config_last_reload_successful 0"))
                 and "mailtls_domains_configured 2" in body["last"])
    finally:
        e.stop()
        os.unlink(config)


def t_refusals(binary, tmp, pki, c):
    cases = {
        "http2 true": ("http_server_config:\n  http2: true\n", ":2: http_server_config.http2: not supported"),
        "rate_limit": ("rate_limit:\n  interval: 1s\n  burst: 5\n", ":1: rate_limit: not supported"),
        "other header": ("http_server_config:\n  headers:\n    Server: x\n",
                         ":3: http_server_config.headers.Server: not supported"),
        "TLS 1.3 suite": (tls_web(pki, extra="  cipher_suites:\n    - TLS_AES_128_GCM_SHA256\n"),
                          ":5: tls_server_config.cipher_suites: TLS_AES_128_GCM_SHA256 is a TLS 1.3 suite"),
        "insecure suite": (tls_web(pki, extra="  cipher_suites: [TLS_RSA_WITH_3DES_EDE_CBC_SHA]\n"),
                           ":4: tls_server_config.cipher_suites: TLS_RSA_WITH_3DES_EDE_CBC_SHA is insecure"),
        "unknown key": (tls_web(pki, extra="  client_cas: x\n"), ":4: tls_server_config.client_cas: unknown key"),
        "SANs without a required certificate": (
            tls_web(pki, extra="  client_allowed_sans: [a]\n"), ":2: tls_server_config: client_allowed_sans needs client_auth_type"),
    }
    web = os.path.join(tmp, "refused.yml")
    with open(os.path.join(tmp, "check.yml"), "w") as f:
        f.write(CONFIG.format(domains="example.com"))
    for label, (text, want) in cases.items():
        with open(web, "w") as f:
            f.write(text)
        p = run(binary, "--config.file", os.path.join(tmp, "check.yml"), "--web.config.file", web, "--config.check")
        out = (p.stdout + p.stderr).strip()
        c.expect(f"--config.check refuses {label}", p.returncode == 1 and web + want in out, out)


TESTS = {"versions": t_versions, "ciphers": t_ciphers, "curves": t_curves, "headers_auth": t_headers_auth,
         "client_auth": t_client_auth, "rotation": t_rotation, "config_watch": t_config_watch,
         "refusals": t_refusals}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    if not shutil.which("openssl") or not shutil.which("curl"):
        print("SKIP: needs openssl and curl")
        return 77
    binary = os.path.abspath(a.exporter)
    tmp = tempfile.mkdtemp(prefix="mailtls_web_config_clients_")
    c = Checks()
    try:
        pki = Pki(tmp)
        for name, test in TESTS.items():
            if not a.only or name in a.only.split(","):
                print(f"--- {name}")
                test(binary, tmp, pki, c)
    finally:
        if c.failures:
            print(f"exporter log kept: {os.path.join(tmp, 'exporter.log')}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if c.failures:
        print(f"FAIL: {len(c.failures)}: " + "; ".join(c.failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
