#!/usr/bin/env python3
"""Builds tests/fuzz/corpus/<target>/ from the unit tests' vectors and tests/data.

String literals are lifted out of the named unit test sources (C++ escapes decoded), plus whole
files from tests/data and the exporter's testdata. Run from anywhere; rerun after adding tests.
Seeds are named by the SHA-1 of their content, as libFuzzer names its own finds.
"""
import glob
import hashlib
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")

LITERAL = re.compile(r'(?:R"([^(]*)\((.*?)\)\1"|"((?:[^"\\\n]|\\.)*)")', re.S)


def decode_cpp(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        i += 1
        e = s[i] if i < len(s) else ""
        simple = {"n": 10, "r": 13, "t": 9, "0": 0, "\\": 92, '"': 34, "'": 39, "a": 7, "b": 8,
                  "f": 12, "v": 11, "?": 63}
        if e == "x":
            m = re.match(r"[0-9a-fA-F]{1,2}", s[i + 1:])
            out.append(int(m.group(0), 16))
            i += 1 + len(m.group(0))
        elif e in "01234567" and re.match(r"[0-7]{1,3}", s[i:]):
            m = re.match(r"[0-7]{1,3}", s[i:])
            out.append(int(m.group(0), 8) & 0xFF)
            i += len(m.group(0))
        elif e in simple:
            out.append(simple[e])
            i += 1
        else:
            out += e.encode()
            i += 1
    return bytes(out)


def literals(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    # Adjacent literals ("a" "b") are one string in C++: join them.
    joined = re.sub(r'"\s*\n\s*"', "", text)
    for m in LITERAL.finditer(joined):
        if m.group(2) is not None:
            yield m.group(2).encode()
        else:
            yield decode_cpp(m.group(3))


def add(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if not data:
        return
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def from_tests(target, sources, min_len=1):
    for src in sources:
        for p in glob.glob(os.path.join(ROOT, src)):
            for lit in literals(p):
                if len(lit) >= min_len:
                    add(target, lit)


def from_files(target, patterns):
    for pat in patterns:
        for p in glob.glob(os.path.join(ROOT, pat)):
            if os.path.isfile(p):
                add(target, open(p, "rb").read())


def main():
    from_tests("fuzz_sts_txt_record", ["tests/unit/mtasts/sts_txt_record_test.cc"])
    from_tests("fuzz_sts_policy", ["tests/unit/mtasts/sts_policy_test.cc",
                                   "tests/unit/mtasts/policy_fetcher_integration_test.cc"], 8)
    from_tests("fuzz_tlsrpt_record", ["tests/unit/tlsrpt/tlsrpt_record_test.cc"])
    from_tests("fuzz_tlsrpt_report", ["tests/unit/tlsrpt/report_parser_test.cc",
                                      "tests/unit/tlsrpt/report_intake_test.cc"], 2)
    from_files("fuzz_tlsrpt_report", ["tests/data/tlsrpt/*.json", "tests/data/tlsrpt/*.gz"])
    from_tests("fuzz_mail_report", ["tests/unit/tlsrpt/mail_report_extractor_test.cc"], 8)
    from_files("fuzz_mail_report", ["tests/data/tlsrpt/*.eml"])
    from_files("fuzz_gzip", ["tests/data/tlsrpt/*.gz"])
    import gzip
    for p in glob.glob(os.path.join(ROOT, "tests/data/tlsrpt/*.json")):
        add("fuzz_gzip", gzip.compress(open(p, "rb").read()))
    add("fuzz_gzip", gzip.compress(b"a" * 100000))  # a small bomb: 100 kB of one byte
    add("fuzz_gzip", gzip.compress(b"one") + gzip.compress(b"two"))  # two members
    from_tests("fuzz_smtp_reply", ["tests/unit/smtp/reply_parser_test.cc",
                                   "tests/unit/smtp/starttls_probe_test.cc"], 4)
    from_tests("fuzz_exporter_config", ["tests/unit/exporter/config_test.cc"], 8)
    from_files("fuzz_exporter_config", ["examples/*.yaml", "examples/*.yml",
                                        "tests/unit/exporter/testdata/*.yml"])
    from_tests("fuzz_web_config", ["tests/unit/exporter/web_config_test.cc"], 8)
    from_files("fuzz_web_config", ["examples/web-config*.yml", "examples/web*.yaml"])
    # DNS: the packet seeds are files captured from the world by capture_dns_seeds.sh; RDATA
    # seeds are those packets' records in the fuzzer's 1-byte-length framing plus hand vectors.
    for rd in [b"\x00\x0a\x02mx\x07example\x00", b"\x03\x01\x01" + bytes(32),
               b"\x0bv=STSv1; id=1\x05more!", b"\x7f\x00\x00\x01", bytes(16), b"\x00",
               b"\x00\x0a\xc0\x0c", b"\x3f" + b"a" * 63 + b"\x00"]:
        add("fuzz_dns_rdata", bytes([len(rd)]) + rd)
    from_files("fuzz_rrsig_expiry", ["tests/fuzz/seeds/dns/*.bin"])
    # Certificates: every PEM under the seed directory, converted to DER.
    import base64
    for p in glob.glob(os.path.join(ROOT, "tests/fuzz/seeds/certs/*.pem")):
        pem = open(p).read()
        for block in re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----",
                                pem, re.S):
            add("fuzz_certificate", base64.b64decode("".join(block.split())))
    for t in os.listdir(CORPUS):
        print(t, len(os.listdir(os.path.join(CORPUS, t))), file=sys.stderr)


if __name__ == "__main__":
    main()
