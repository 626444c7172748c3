"""hub_util.py -- helpers of the Mercure publish tests: tokens minted by a
real JWT library (python3-jwt, in Debian's /usr/bin/python3: the python3
running the tests may lack it), form bodies as publishers send them,
POSTs to the hub through nginx and the queue's records (`sseq tail
--json`)."""
import json
import subprocess
import time
import urllib.parse

HUB = "/.well-known/mercure"
# The publisher and subscriber secret of the tests (HS256: 32+ bytes).
KEY = "hub-test-secret-0123456789abcdef-0123456789"
OTHER_KEY = "another-secret-0123456789abcdef-0123456789"
DEBIAN_PYTHON = "/usr/bin/python3"

_MINT = r"""
import json, sys, jwt
claims, key, alg = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
headers = json.loads(sys.argv[4])
if alg == "none":
    print(jwt.encode(claims, None, algorithm="none", headers=headers))
else:
    print(jwt.encode(claims, key, algorithm=alg, headers=headers))
"""


def mint(claims, key=KEY, alg="HS256", headers=None):
    """A JWS of claims signed with key and alg ("none": unsigned), with
    extra JOSE headers (e.g. {"typ": "at+jwt"}), by python3-jwt."""
    r = subprocess.run([DEBIAN_PYTHON, "-c", _MINT, json.dumps(claims), key,
                        alg, json.dumps(headers or {})],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("minting a JWT: " + r.stderr)
    return r.stdout.strip()


def publisher(*selectors, **extra):
    """A publisher token for selectors (default "*"), valid an hour."""
    claims = {"mercure": {"publish": list(selectors or ["*"])},
              "exp": int(time.time()) + 3600}
    claims.update(extra)
    return mint(claims)


def form(pairs):
    """pairs (list of (name, value)) as a form body, '+' for spaces."""
    return urllib.parse.urlencode(pairs).encode()


def post_hub(st, body, token=None, ctype="application/x-www-form-urlencoded",
             headers=None, query=""):
    """POSTs body to the hub through nginx; token None = no Authorization.
    Returns (status, headers, text)."""
    h = {}
    if ctype is not None:
        h["Content-Type"] = ctype
    if token is not None:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    status, hdrs, raw = st.http("POST", HUB + query, body=body, headers=h)
    return status, hdrs, raw.decode("utf-8", "replace")


def newest(st, n=1):
    """The newest n records of the queue, oldest first, as `sseq tail
    --json` prints them (topics are URLs, not channel names, so every
    channel is read)."""
    r = st.sseq("tail", "--backlog", n, "--json")
    if r.returncode != 0:
        raise RuntimeError("sseq tail: " + r.stderr)
    return [json.loads(line) for line in r.stdout.splitlines()]
