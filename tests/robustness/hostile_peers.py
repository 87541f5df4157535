"""Hostile peers on loopback for the robustness tests: an authoritative DNS server (UDP and TCP)
for a private zone, SMTP servers and HTTPS policy hosts that misbehave in chosen ways, and a
throwaway CA made with the openssl CLI. Standard library only.

Every server runs in daemon threads and is bounded: it sends at most what its mode says (or
until the client goes away) and stops when close() is called.
"""
import os
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time

# ---------------------------------------------------------------------------------------------
# DNS


def encode_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def txt_rdata(*strings):
    out = b""
    for s in strings:
        b = s.encode() if isinstance(s, str) else s
        out += bytes([len(b)]) + b
    return out


TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28, "TLSA": 52}


class Zone:
    """name (lower case, no dot) -> {qtype: [rdata bytes]} under one apex."""

    def __init__(self, apex):
        self.apex = apex
        self.records = {}
        soa = (encode_name("ns." + apex) + encode_name("hostmaster." + apex) +
               struct.pack("!IIIII", 1, 3600, 600, 86400, 60))
        self.add(apex, "SOA", soa)
        self.add(apex, "NS", encode_name("ns." + apex))
        self.add("ns." + apex, "A", socket.inet_aton("127.0.0.1"))

    def add(self, name, rtype, rdata):
        self.records.setdefault(name.lower(), {}).setdefault(TYPES[rtype], []).append(rdata)

    def answer(self, qname, qtype):
        """(rcode, answers, authority)"""
        qname = qname.lower()
        if not (qname == self.apex or qname.endswith("." + self.apex)):
            return 5, [], []  # REFUSED
        soa = [(self.apex, 6, self.records[self.apex][6][0])]
        node = self.records.get(qname)
        if node is None:
            # An empty non-terminal is NODATA, anything else NXDOMAIN.
            if any(n.endswith("." + qname) for n in self.records):
                return 0, [], soa
            return 3, [], soa
        if qtype in node:
            return 0, [(qname, qtype, r) for r in node[qtype]], []
        return 0, [], soa


class DnsServer:
    """Authoritative for one Zone on 127.0.0.1:<port>, UDP and TCP. Over UDP a reply larger
    than the client's EDNS size (512 without EDNS) is sent truncated (TC=1), so big RRsets go
    over TCP as they do on the Internet."""

    def __init__(self, zone, host="127.0.0.1"):
        self.zone = zone
        self.queries = 0
        self.tcp_queries = 0
        self._stop = False
        # One port number for UDP and TCP: the UDP port the kernel picks may be taken for TCP
        # (another test's listener or a client's ephemeral port), so pick again then.
        for attempt in range(50):
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind((host, 0))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind((host, self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
                if attempt == 49:
                    raise
        self.tcp.listen(64)
        self.udp.settimeout(0.2)
        self.tcp.settimeout(0.2)
        threading.Thread(target=self._udp_loop, daemon=True).start()
        threading.Thread(target=self._tcp_loop, daemon=True).start()

    def close(self):
        self._stop = True
        time.sleep(0.3)
        self.udp.close()
        self.tcp.close()

    def _reply(self, query, udp):
        if len(query) < 12:
            return None
        qid, flags, qd = struct.unpack("!HHH", query[:6])
        if qd != 1:
            return None
        i, labels = 12, []
        while i < len(query) and query[i] != 0:
            n = query[i]
            labels.append(query[i + 1:i + 1 + n].decode("ascii", "replace"))
            i += 1 + n
        i += 1
        if i + 4 > len(query):
            return None
        qtype, _qclass = struct.unpack("!HH", query[i:i + 4])
        question = query[12:i + 4]
        edns_size = 512
        ar = struct.unpack("!H", query[10:12])[0]
        if ar and len(query) >= i + 4 + 11 and query[i + 4] == 0:
            edns_size = max(512, struct.unpack("!H", query[i + 4 + 3:i + 4 + 5])[0])
        rcode, answers, authority = self.zone.answer(".".join(labels), qtype)
        rd = flags & 0x0100
        body = b""
        for name, rtype, rdata in answers + authority:
            body += encode_name(name) + struct.pack("!HHIH", rtype, 1, 300, len(rdata)) + rdata
        header = struct.pack("!HHHHHH", qid, 0x8400 | rd | rcode, 1, len(answers), len(authority), 0)
        reply = header + question + body
        if udp and len(reply) > edns_size:
            return struct.pack("!HHHHHH", qid, 0x8600 | rd | rcode, 1, 0, 0, 0) + question
        return reply

    def _udp_loop(self):
        while not self._stop:
            try:
                data, peer = self.udp.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            self.queries += 1
            reply = self._reply(data, udp=True)
            if reply:
                self.udp.sendto(reply, peer)

    def _tcp_loop(self):
        while not self._stop:
            try:
                conn, _ = self.tcp.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._tcp_conn, args=(conn,), daemon=True).start()

    def _tcp_conn(self, conn):
        conn.settimeout(5)
        try:
            while not self._stop:
                head = conn.recv(2)
                if len(head) < 2:
                    return
                n = struct.unpack("!H", head)[0]
                data = b""
                while len(data) < n:
                    chunk = conn.recv(n - len(data))
                    if not chunk:
                        return
                    data += chunk
                self.queries += 1
                self.tcp_queries += 1
                reply = self._reply(data, udp=False)
                if reply:
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            pass
        finally:
            conn.close()


# ---------------------------------------------------------------------------------------------
# Certificates


def make_pki(directory, names):
    """A CA and one leaf for all `names` (SANs); returns (ca_pem, leaf_pem, leaf_key)."""
    ca_key, ca_pem = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    key, csr, pem = (os.path.join(directory, f) for f in ("leaf.key", "leaf.csr", "leaf.pem"))
    ext = os.path.join(directory, "leaf.ext")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", ca_key, "-out", ca_pem, "-days", "2", "-subj", "/CN=Hostile Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=" + names[0])
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join("DNS:" + n for n in names) + "\n"
                "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key,
        "-CAcreateserial", "-out", pem, "-days", "2", "-extfile", ext)
    return ca_pem, pem, key


# ---------------------------------------------------------------------------------------------
# TCP servers with per-connection behaviours


class StreamServer:
    """Listens on host:port and runs handler(conn, server) per connection in a thread. The
    handler must return when server.stopping is set or the peer goes away."""

    def __init__(self, host, port, handler, tls_context=None):
        self.stopping = False
        self.bytes_sent = 0
        self.connections = 0
        self.handler = handler
        self.tls_context = tls_context
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        threading.Thread(target=self._loop, daemon=True).start()

    def close(self):
        self.stopping = True
        time.sleep(0.3)
        self.sock.close()

    def send(self, conn, data):
        conn.sendall(data)
        self.bytes_sent += len(data)

    def _loop(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            conn.settimeout(30)
            if self.tls_context is not None:
                conn = self.tls_context.wrap_socket(conn, server_side=True)
            self.handler(conn, self)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass


def read_line(conn, limit=4096):
    data = b""
    while not data.endswith(b"\n") and len(data) < limit:
        chunk = conn.recv(1)
        if not chunk:
            raise OSError("peer closed")
        data += chunk
    return data


# SMTP behaviours (the server side of a probe: banner, EHLO, STARTTLS, QUIT).

def smtp_drip_banner(conn, srv):
    """A banner one byte every 0.5 s that never ends."""
    srv.send(conn, b"220 ")
    while not srv.stopping:
        srv.send(conn, b"a")
        time.sleep(0.5)


def smtp_endless_line(conn, srv):
    srv.send(conn, b"220 ")
    block = b"x" * 16384
    while not srv.stopping:
        srv.send(conn, block)


def smtp_huge_ehlo(conn, srv):
    """A fine banner, then an EHLO reply of 100 000 continuation lines."""
    srv.send(conn, b"220 hostile ESMTP\r\n")
    read_line(conn)
    block = b"250-PADDING-CAPABILITY-LINE\r\n" * 1000
    for _ in range(100):
        if srv.stopping:
            return
        srv.send(conn, block)
    srv.send(conn, b"250 STARTTLS\r\n")


def smtp_stall_after_ehlo(conn, srv):
    srv.send(conn, b"220 hostile ESMTP\r\n")
    read_line(conn)
    while not srv.stopping:
        time.sleep(0.2)


def smtp_tls_garbage(conn, srv):
    srv.send(conn, b"220 hostile ESMTP\r\n")
    read_line(conn)
    srv.send(conn, b"250-hostile\r\n250 STARTTLS\r\n")
    read_line(conn)
    srv.send(conn, b"220 go ahead\r\n")
    srv.send(conn, os.urandom(8192))
    time.sleep(1)


# HTTPS policy host behaviours (after the TLS handshake).

def read_http_request(conn):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 16384:
        chunk = conn.recv(4096)
        if not chunk:
            raise OSError("peer closed")
        data += chunk
    return data


GOOD_POLICY = b"version: STSv1\nmode: enforce\nmx: *.hostile.test\nmax_age: 86400\n"


def http_good(conn, srv):
    read_http_request(conn)
    srv.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
             b"Connection: close\r\n\r\n" % len(GOOD_POLICY) + GOOD_POLICY)


def http_drip_body(conn, srv):
    """Headers at once, then a valid-looking body one byte per second."""
    read_http_request(conn)
    body = GOOD_POLICY + b"#" * 4000
    srv.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
             % len(body))
    for b in body:
        if srv.stopping:
            return
        srv.send(conn, bytes([b]))
        time.sleep(1)


def http_ten_megabytes(conn, srv):
    """A 10 MB policy, declared and streamed as fast as the client reads."""
    read_http_request(conn)
    size = 10 * 1024 * 1024
    srv.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
             % size)
    block = GOOD_POLICY + b"mx: filler.hostile.test\n" * 2000
    sent = 0
    while sent < size and not srv.stopping:
        chunk = block[:size - sent]
        srv.send(conn, chunk)
        sent += len(chunk)


def make_http_redirect_loop(location):
    def handler(conn, srv):
        # Keep-alive: answer every request on the connection with the same redirect.
        while not srv.stopping:
            read_http_request(conn)
            srv.send(conn, b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n"
                     % location.encode())
    return handler


def http_endless_headers(conn, srv):
    read_http_request(conn)
    srv.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n")
    i = 0
    while not srv.stopping:
        srv.send(conn, b"X-Filler-%d: %s\r\n" % (i, b"h" * 200))
        i += 1


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


# ---------------------------------------------------------------------------------------------
# Processes


def stop_process(proc, timeout=20):
    """SIGTERM, then SIGKILL if it has not ended within `timeout` seconds; waits for it."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port(host="127.0.0.1"):
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def vm_hwm_kb(pid):
    """Peak resident set (VmHWM) of a running process, in kB, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_status_field(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def vm_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None
