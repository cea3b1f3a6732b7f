# A race measured without contend, to check its verdicts by hand: ROUNDS rounds of N PUTs (or
# DELETEs) to one fresh resource with the same precondition, each on its own connection opened
# first, released together by a thread barrier. Counts the rounds where two or more won (2xx).
#
#   python race_by_hand.py URL if-match [ROUNDS] [N]      # N PUTs with If-Match: the read tag
#   python race_by_hand.py URL create [ROUNDS] [N]        # N PUTs with If-None-Match: *
#   python race_by_hand.py URL delete [ROUNDS] [N]        # N DELETEs with If-Match
#
# Standard library only. Each round uses a new path, URL's path + /race-by-hand-<pid>-<kind>-<n>
# (so on WebDAV, point URL at a collection that exists), and deletes it.
import http.client
import os
import sys
import threading
import time
import urllib.parse

url = urllib.parse.urlsplit(sys.argv[1])
kind = sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 100
racers = int(sys.argv[4]) if len(sys.argv) > 4 else 20


def request(method, path, headers=None, body=None):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status, resp.getheader("ETag")


def one_round(path):
    tag = None
    if kind != "create":
        status, tag = request("PUT", path, {"Content-Type": "text/plain"}, b"v0")
        assert status in (200, 201, 204), f"create: {status}"
        status, tag = request("GET", path)
        # A weak tag never passes If-Match (strong comparison); servers that weaken a tag
        # written within the last second (Apache) give a strong one once it has passed.
        for _ in range(30):
            if not tag or not tag.startswith("W/"):
                break
            time.sleep(0.1)
            status, tag = request("GET", path)
        assert status == 200 and tag and not tag.startswith("W/"), f"read: {status} {tag}"
    conns = [http.client.HTTPConnection(url.hostname, url.port, timeout=30) for _ in range(racers)]
    for c in conns:
        c.connect()
    barrier = threading.Barrier(racers)
    statuses = [None] * racers

    def racer(i):
        method = "DELETE" if kind == "delete" else "PUT"
        headers = {"If-None-Match": "*"} if kind == "create" else {"If-Match": tag}
        body = None if kind == "delete" else f"writer {i}".encode()
        if body is not None:
            headers["Content-Type"] = "text/plain"
        barrier.wait()
        conns[i].request(method, path, body=body, headers=headers)
        resp = conns[i].getresponse()
        resp.read()
        statuses[i] = resp.status
        conns[i].close()

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    request("DELETE", path)
    return sum(1 for s in statuses if 200 <= s < 300)


broken = 0
for n in range(rounds):
    winners = one_round(f"{url.path.rstrip('/')}/race-by-hand-{os.getpid()}-{kind}-{n}")
    broken += winners > 1
print(f"{kind}: two or more winners in {broken} of {rounds} rounds ({racers} racers each)")
