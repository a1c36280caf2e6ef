"""geopy's Bing geocoder as a contestant of `make bench` (Debian's python3-geopy).

Usage: python3 bench/geopy_seq.py BASE_URL KEY N  ->  prints "wall cpu n" for N geocodes
after one warm-up geocode. geopy 2.x's Bing class builds its URL from a fixed domain
(dev.virtualearth.net) and a scheme; the documented way to aim it elsewhere is its
`geocode_api` attribute, set here to the local server. geopy picks its default adapter
(urllib when requests is not installed, as on Debian with python3-geopy alone).
"""
import sys
import time

from geopy.geocoders import Bing


def main():
    base, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    scheme = base.split(":", 1)[0]
    g = Bing(api_key=key, scheme=scheme, timeout=30)
    g.geocode_api = base.rstrip("/") + g.geocode_path
    q = "Tower of London"
    assert g.geocode(q) is not None
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        if g.geocode(q) is None:
            raise SystemExit("geopy: no result")
    print("%.6f %.6f %d" % (time.perf_counter() - w0, time.process_time() - c0, n))


if __name__ == "__main__":
    main()
