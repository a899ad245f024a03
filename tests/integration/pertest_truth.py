"""Compares the tests pgdrip named as leaking with the ground truth of a
tests/clients suite: the tests in which a session opened to be leaked
("open" lines with "leaked": true) was opened.

  pertest_truth.py TRUTH.jsonl REPORT.json

Prints "ok N" (N leaking tests, named exactly), or what differs, and
exits 1.  pgdrip names a test "FILE::NAME" for node runners, whose truth
knows only NAME: the part after "::" is compared there.
"""
import json
import sys


def main(truth_path, report_path):
    want = set()
    node = False
    with open(truth_path) as f:
        for line in f:
            ev = json.loads(line)
            if ev.get("ev") == "open" and ev.get("leaked"):
                want.add(ev.get("test"))
            # pytest's node ids hold "::"; mocha's and jest's names not.
            if ev.get("ev") == "test_start" and \
                    "::" not in (ev.get("name") or ""):
                node = True
    with open(report_path) as f:
        report = json.load(f)
    got = set()
    for t in report["tests"]:
        if t["leaked"] > 0:
            name = t["name"]
            got.add(name.split("::", 1)[1] if node and "::" in name
                    else name)
    if None in want:
        print("a leaked session opened outside any test in the truth")
        return 1
    if got == want:
        print("ok %d" % len(want))
        return 0
    print("missed: %s; wrongly named: %s" %
          (sorted(want - got), sorted(got - want)))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
