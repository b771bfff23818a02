#!/usr/bin/env python3
"""Wire-compatibility check: the official `dhanhq` SDK (PyPI) against `optionhub sim`.

The SDK is used as shipped; only the two base URLs it hard-codes are pointed at the
simulator:
  * `dhanhq.marketfeed.MarketFeed.market_feed_wss` (class attribute,
    'wss://api-feed.dhan.co'); `MarketFeed.connect` reads it through the class, so it
    is patched on the class rather than overridden in a subclass;
  * `dhanhq.dhan_http.DhanHTTP.API_BASE_URL` ('https://api.dhan.co/v2'), read by
    `DhanHTTP.__init__`, so it is patched before the `DhanContext` is built.
Every packet is decoded by the SDK's own `MarketFeed.process_data`; this script only
looks at the raw frame beside it, to check that each WebSocket message holds exactly one
packet (the SDK decodes the first packet of a message and drops the rest).

Three checks:
  1. scrip master: the detailed CSV (parsed by header name) lists NIFTY (IDX_I 13) and
     NIFTY index options; picks near-the-money options of the nearest expiry.
  2. feed: the SDK subscribes Ticker / Quote / Full and decodes at least one Ticker,
     Quote, OI, Full (5 depth levels) and Previous Close packet, with the right
     security ids and sane values.
  3. REST: the SDK's expiry list and option chain for NIFTY (13, IDX_I) have Dhan's
     response shape.

Exit status 0 when all pass, 1 when any fails, 2 on the hard timeout.
"""

import argparse
import asyncio
import csv
import io
import math
import os
import re
import signal
import statistics
import struct
import sys
import time
import traceback
import urllib.error
import urllib.request

HARD_TIMEOUT_S = 60
FEED_MIN_S = 3.0  # collect at least this long, so live ticks follow the snapshots
FEED_WINDOW_S = 12.0  # longest time spent collecting packets
NIFTY_ID = "13"

# Numeric exchange segments in the binary header (Dhan annexure).
SEG_IDX = 0
SEG_NSE_FNO = 2


class CheckFailed(Exception):
    pass


def require(condition, message):
    if not condition:
        raise CheckFailed(message)


def log(message):
    print(message, flush=True)


def on_hard_timeout(signum, frame):
    sys.stdout.write(f"FAIL: hard timeout of {HARD_TIMEOUT_S} s reached\n")
    sys.stdout.write("dhan_sdk: 0 passed, 1 failed\n")
    sys.stdout.flush()
    os._exit(2)


# --------------------------------------------------------------------------------------
# 1. scrip master


def parse_date(text):
    """SM_EXPIRY_DATE as YYYY-MM-DD (accepts a trailing time, or DD-MM-YYYY)."""
    text = (text or "").strip()
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", text)
    if m:
        return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    m = re.match(r"^(\d{2})[-/](\d{2})[-/](\d{4})", text)
    if m:
        return f"{m.group(3)}-{m.group(2)}-{m.group(1)}"
    return None


def check_scrip_master(url):
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            status = response.status
            body = response.read()
    except urllib.error.HTTPError as e:
        raise CheckFailed(f"scrip master: GET {url} answered HTTP {e.code}: {e.read()[:300]!r}")
    except urllib.error.URLError as e:
        raise CheckFailed(f"scrip master: GET {url} failed: {e.reason}")
    require(status == 200, f"scrip master: GET {url} answered HTTP {status}")
    text = body.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    needed = ["EXCH_ID", "SEGMENT", "SECURITY_ID", "INSTRUMENT", "UNDERLYING_SYMBOL",
              "SM_EXPIRY_DATE", "STRIKE_PRICE", "OPTION_TYPE"]
    missing = [c for c in needed if c not in header]
    require(not missing, f"scrip master: header lacks {missing}; header is {header}")
    rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    require(rows, "scrip master: no rows")

    index_rows = [r for r in rows if r["SECURITY_ID"] == NIFTY_ID and r["SEGMENT"] == "I"
                  and r["EXCH_ID"] == "NSE"]
    require(index_rows, "scrip master: no NIFTY index row (EXCH_ID NSE, SEGMENT I, SECURITY_ID 13)")
    require(index_rows[0]["UNDERLYING_SYMBOL"] == "NIFTY" or index_rows[0]["INSTRUMENT"] == "INDEX",
            f"scrip master: row for IDX_I 13 is not the NIFTY index: {index_rows[0]}")

    options = []
    for r in rows:
        if not (r["UNDERLYING_SYMBOL"] == "NIFTY" and r["INSTRUMENT"] == "OPTIDX"
                and r["EXCH_ID"] == "NSE" and r["SEGMENT"] == "D"):
            continue
        expiry = parse_date(r["SM_EXPIRY_DATE"])
        require(expiry, f"scrip master: unparseable SM_EXPIRY_DATE {r['SM_EXPIRY_DATE']!r} in {r}")
        require(r["OPTION_TYPE"] in ("CE", "PE"), f"scrip master: NIFTY option with OPTION_TYPE {r['OPTION_TYPE']!r}")
        require(r["SECURITY_ID"].isdigit(), f"scrip master: non-numeric SECURITY_ID {r['SECURITY_ID']!r}")
        options.append({"id": r["SECURITY_ID"], "expiry": expiry,
                        "strike": float(r["STRIKE_PRICE"]), "type": r["OPTION_TYPE"]})
    require(options, "scrip master: no NIFTY OPTIDX rows (EXCH_ID NSE, SEGMENT D)")

    nearest = min(o["expiry"] for o in options)
    chain = [o for o in options if o["expiry"] == nearest]
    strikes = sorted({o["strike"] for o in chain})
    middle = statistics.median(strikes)
    by_distance = sorted(strikes, key=lambda s: (abs(s - middle), s))

    def pick(strike, kind):
        for o in chain:
            if o["strike"] == strike and o["type"] == kind:
                return o
        raise CheckFailed(f"scrip master: no NIFTY {nearest} {strike} {kind}")

    near = by_distance[:3]
    picked = {
        "ticker_quote_full": pick(near[0], "CE"),  # subscribed in all three modes
        "quote": pick(near[0], "PE"),
        "full": pick(near[1] if len(near) > 1 else near[0], "PE" if len(near) == 1 else "CE"),
    }
    log(f"PASS scrip master: {len(rows)} rows, {len(options)} NIFTY options, nearest expiry {nearest} "
        f"({len(strikes)} strikes around {middle:g}); picked "
        + ", ".join(f"{o['id']} ({o['strike']:g} {o['type']})" for o in picked.values()))
    return {"expiry": nearest, "strikes": strikes, "picked": picked, "chain": chain}


# --------------------------------------------------------------------------------------
# 2. market feed


def as_float(value, what):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise CheckFailed(f"feed: {what} is not a number: {value!r}")


def check_feed(feed_url, client_id, token, master):
    from dhanhq import DhanContext
    from dhanhq import marketfeed as sdk_marketfeed
    import websockets

    MarketFeed = sdk_marketfeed.MarketFeed
    MarketFeed.market_feed_wss = feed_url.rstrip("/")

    picked = master["picked"]
    a = picked["ticker_quote_full"]["id"]
    b = picked["quote"]["id"]
    c = picked["full"]["id"]
    instruments = [
        (MarketFeed.IDX, NIFTY_ID, MarketFeed.Ticker),
        (MarketFeed.NSE_FNO, a, MarketFeed.Ticker),
        (MarketFeed.NSE_FNO, a, MarketFeed.Quote),
        (MarketFeed.NSE_FNO, a, MarketFeed.Full),
        (MarketFeed.NSE_FNO, b, MarketFeed.Quote),
        (MarketFeed.NSE_FNO, c, MarketFeed.Full),
    ]
    segment_of = {int(NIFTY_ID): SEG_IDX, int(a): SEG_NSE_FNO, int(b): SEG_NSE_FNO, int(c): SEG_NSE_FNO}
    expect = {  # packet type -> security ids that may send it
        "Ticker Data": {int(NIFTY_ID), int(a)},
        "Quote Data": {int(a), int(b)},
        "OI Data": {int(a), int(b)},
        "Full Data": {int(a), int(c)},
        "Previous Close": set(segment_of),
    }

    context = DhanContext(client_id, token)
    feed = MarketFeed(context, instruments, "v2")

    # Keep the raw frame beside the SDK's own decoding (the SDK's code does the decoding).
    frames = []

    def process_data(data):
        frames.append(data)
        return MarketFeed.process_data(feed, data)

    feed.process_data = process_data

    seen = {kind: [] for kind in expect}
    others = []
    try:
        try:
            feed.run_forever()  # connect + subscribe, as the SDK's README does
        except websockets.exceptions.ConnectionClosed as e:
            detail = f"; last message {frames[-1][:16].hex()}" if frames else ""
            raise CheckFailed(f"feed: the server closed the connection while the SDK subscribed: {e}{detail}")
        started = time.monotonic()
        deadline = started + FEED_WINDOW_S
        while time.monotonic() < deadline:
            remaining = deadline - time.monotonic()
            try:
                message = feed.loop.run_until_complete(
                    asyncio.wait_for(feed.get_instrument_data(), timeout=remaining))
            except asyncio.TimeoutError:
                break
            raw = frames[-1]
            if isinstance(raw, str):
                raise CheckFailed(f"feed: the server sent a text frame; the SDK expects binary: {raw[:200]!r}")
            require(len(raw) >= 8, f"feed: message shorter than a header: {raw.hex()}")
            code, length, segment, security_id = struct.unpack("<BHBI", raw[:8])
            if code == 50:
                reason = struct.unpack("<H", raw[8:10])[0] if len(raw) >= 10 else None
                raise CheckFailed(f"feed: the server disconnected with code 50, reason {reason}: {raw.hex()}")
            require(length == len(raw),
                    f"feed: a {len(raw)}-byte message whose first packet (code {code}) says {length} bytes; "
                    "the SDK decodes one packet per message, so stacked packets would be lost: "
                    f"{raw[:64].hex()}")
            if isinstance(message, dict) and message.get("type") in seen:
                seen[message["type"]].append(message)
            else:
                others.append((code, message))
                require(message is not None,
                        f"feed: the SDK could not decode a packet with code {code}: {raw[:64].hex()}")
            if time.monotonic() - started >= FEED_MIN_S and all(seen.values()) and all(
                    any(m["security_id"] == s for m in seen["Previous Close"])
                    for s in expect["Previous Close"]) and sum(
                    m["security_id"] == int(NIFTY_ID) for m in seen["Ticker Data"]) >= 2:
                break
    finally:
        try:
            feed.close_connection()
        except Exception as e:  # closing is the SDK's business; report, don't fail on it
            log(f"note: MarketFeed.close_connection raised {e!r}")

    require(frames, "feed: no message at all from the server")
    missing = [kind for kind, got in seen.items() if not got]
    require(not missing, f"feed: decoded no {missing} in {FEED_WINDOW_S:g} s "
            f"(got {{{', '.join(f'{k}: {len(v)}' for k, v in seen.items())}}})")

    for kind, messages in seen.items():
        for m in messages:
            sid = m["security_id"]
            require(sid in expect[kind], f"feed: {kind} for security id {sid}, which was not subscribed in that mode: {m}")
            require(m["exchange_segment"] == segment_of[sid],
                    f"feed: {kind} for {sid} with exchange segment {m['exchange_segment']}, "
                    f"expected {segment_of[sid]}: {m}")

    for m in seen["Ticker Data"]:
        require(as_float(m["LTP"], "Ticker LTP") > 0, f"feed: Ticker with non-positive LTP: {m}")
        require(re.match(r"^\d\d:\d\d:\d\d$", m["LTT"]), f"feed: Ticker LTT: {m}")
    nifty_ticks = [m for m in seen["Ticker Data"] if m["security_id"] == int(NIFTY_ID)]
    require(len(nifty_ticks) >= 2,
            f"feed: {len(nifty_ticks)} Ticker packets for NIFTY (IDX_I 13) in {FEED_WINDOW_S:g} s; "
            "expected the subscribe snapshot and live ticks after it")

    for m in seen["Quote Data"]:
        ltp, low, high = (as_float(m[k], f"Quote {k}") for k in ("LTP", "low", "high"))
        require(ltp > 0 and as_float(m["open"], "Quote open") > 0, f"feed: Quote with non-positive LTP/open: {m}")
        require(as_float(m["avg_price"], "Quote avg_price") >= 0, f"feed: Quote with negative ATP: {m}")
        require(0 < low <= high, f"feed: Quote with low > high: {m}")
        require(low - 0.011 <= ltp <= high + 0.011, f"feed: Quote LTP outside the day's low..high: {m}")
        require(m["LTQ"] >= 0 and m["volume"] >= 0, f"feed: Quote LTQ/volume: {m}")

    for m in seen["OI Data"]:
        require(m["OI"] > 0, f"feed: OI packet with OI {m['OI']} for an option: {m}")

    for m in seen["Full Data"]:
        ltp, low, high = (as_float(m[k], f"Full {k}") for k in ("LTP", "low", "high"))
        require(ltp > 0, f"feed: Full with non-positive LTP: {m}")
        require(0 < low <= high and low - 0.011 <= ltp <= high + 0.011, f"feed: Full low/LTP/high: {m}")
        require(m["OI"] > 0 and m["oi_day_low"] <= m["oi_day_high"], f"feed: Full OI fields: {m}")
        depth = m["depth"]
        require(len(depth) == 5, f"feed: Full with {len(depth)} depth levels: {m}")
        bids = [as_float(level["bid_price"], "bid_price") for level in depth]
        asks = [as_float(level["ask_price"], "ask_price") for level in depth]
        require(all(p > 0 for p in bids + asks), f"feed: Full depth with a non-positive price: {depth}")
        require(bids[0] <= asks[0], f"feed: Full best bid {bids[0]} above best ask {asks[0]}")
        require(bids == sorted(bids, reverse=True), f"feed: Full bid prices not best-first: {bids}")
        require(asks == sorted(asks), f"feed: Full ask prices not best-first: {asks}")
        require(all(level["bid_quantity"] > 0 and level["ask_quantity"] > 0 for level in depth),
                f"feed: Full depth with a zero quantity: {depth}")

    for m in seen["Previous Close"]:
        require(as_float(m["prev_close"], "prev_close") > 0, f"feed: Previous Close not positive: {m}")
        require(m["prev_OI"] >= 0, f"feed: Previous Close OI: {m}")
    missing_pc = sorted(s for s in expect["Previous Close"]
                        if not any(m["security_id"] == s for m in seen["Previous Close"]))
    require(not missing_pc, f"feed: no Previous Close for subscribed security ids {missing_pc}")

    nifty_ltp = next(as_float(m["LTP"], "LTP") for m in reversed(seen["Ticker Data"])
                     if m["security_id"] == int(NIFTY_ID))
    sample = seen["Full Data"][-1]
    log(f"PASS feed: {len(frames)} messages decoded by dhanhq.marketfeed.MarketFeed: "
        + ", ".join(f"{k} {len(v)}" for k, v in seen.items())
        + (f", other {len(others)}" if others else "")
        + f"; NIFTY LTP {nifty_ltp:.2f}; Full {sample['security_id']} LTP {sample['LTP']} "
        f"bid {sample['depth'][0]['bid_price']} ask {sample['depth'][0]['ask_price']}")
    return nifty_ltp


# --------------------------------------------------------------------------------------
# 3. REST option chain


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_rest(api_url, client_id, token, master, nifty_ltp):
    from dhanhq import DhanContext, DhanHTTP, dhanhq

    DhanHTTP.API_BASE_URL = api_url.rstrip("/") + "/v2"
    context = DhanContext(client_id, token)
    http = context.get_dhan_http()
    require(http.base_url == DhanHTTP.API_BASE_URL, f"rest: SDK base URL is {http.base_url}")
    http.timeout = 15
    dhan = dhanhq(context)

    def unwrap(what, result):
        require(isinstance(result, dict) and result.get("status") == "success",
                f"rest: {what} failed in the SDK: {result!r}"[:600])
        body = result["data"]
        require(isinstance(body, dict) and body.get("status") == "success" and "data" in body,
                f"rest: {what} body is not {{data, status: success}}: {body!r}"[:600])
        return body["data"]

    expiries = unwrap("expiry_list", dhan.expiry_list(under_security_id=13, under_exchange_segment="IDX_I"))
    require(isinstance(expiries, list) and expiries, f"rest: expiry list is not a non-empty list: {expiries!r}")
    for e in expiries:
        require(isinstance(e, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", e), f"rest: expiry {e!r} is not YYYY-MM-DD")
    expiry = min(expiries)
    if master is not None:
        require(expiry == master["expiry"],
                f"rest: nearest expiry {expiry} differs from the scrip master's {master['expiry']}")

    data = unwrap("option_chain", dhan.option_chain(under_security_id=13, under_exchange_segment="IDX_I",
                                                    expiry=expiry))
    require(isinstance(data, dict), f"rest: option chain data is not an object: {data!r}"[:600])
    spot = data.get("last_price")
    require(is_number(spot) and spot > 0, f"rest: data.last_price is {spot!r}")
    oc = data.get("oc")
    require(isinstance(oc, dict) and oc, f"rest: data.oc is not a non-empty object keyed by strike: {type(oc)}")

    side_numbers = ["last_price", "implied_volatility", "top_bid_price", "top_ask_price",
                    "previous_close_price"]
    side_ints = ["oi", "volume", "top_bid_quantity", "top_ask_quantity", "previous_oi", "previous_volume"]
    ids = {}
    sides = 0
    for key, row in oc.items():
        require(re.match(r"^\d+\.\d{6}$", key), f"rest: strike key {key!r} is not like '25000.000000'")
        require(isinstance(row, dict), f"rest: oc[{key}] is not an object")
        for kind in ("ce", "pe"):
            side = row.get(kind)
            if side is None:
                continue
            sides += 1
            where = f"rest: oc[{key}].{kind}"
            for f in side_numbers:
                require(is_number(side.get(f)), f"{where}.{f} is {side.get(f)!r}")
            for f in side_ints:
                require(isinstance(side.get(f), int) and side[f] >= 0, f"{where}.{f} is {side.get(f)!r}")
            require(side["last_price"] >= 0 and side["implied_volatility"] >= 0, f"{where}: negative price/IV")
            if side["top_bid_price"] > 0 and side["top_ask_price"] > 0:
                require(side["top_bid_price"] <= side["top_ask_price"], f"{where}: top bid above top ask")
            greeks = side.get("greeks")
            require(isinstance(greeks, dict), f"{where}.greeks is {greeks!r}")
            for g in ("delta", "theta", "gamma", "vega"):
                require(is_number(greeks.get(g)), f"{where}.greeks.{g} is {greeks.get(g)!r}")
            if kind == "ce":
                require(-1e-9 <= greeks["delta"] <= 1 + 1e-9, f"{where}: call delta {greeks['delta']}")
            else:
                require(-1 - 1e-9 <= greeks["delta"] <= 1e-9, f"{where}: put delta {greeks['delta']}")
            require(greeks["gamma"] >= 0, f"{where}: negative gamma")
            if "security_id" in side:
                ids[(float(key), kind.upper())] = side["security_id"]
    require(sides > 0, "rest: no ce/pe object in data.oc")

    if master is not None:
        for o in master["picked"].values():
            k = (o["strike"], o["type"])
            require(float(f"{o['strike']:.6f}") in {float(x) for x in oc},
                    f"rest: option chain lacks the scrip master's strike {o['strike']:g}")
            if k in ids:
                require(str(ids[k]) == o["id"],
                        f"rest: oc {o['strike']:g} {o['type']} security_id {ids[k]}, scrip master says {o['id']}")
    if nifty_ltp is not None:
        require(abs(spot - nifty_ltp) <= 0.05 * nifty_ltp,
                f"rest: last_price {spot} far from the feed's NIFTY LTP {nifty_ltp}")

    log(f"PASS rest: expiry list {len(expiries)} dates (nearest {expiry}); option chain "
        f"last_price {spot}, {len(oc)} strikes, {sides} sides with Dhan's fields")


# --------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feed-url", required=True, help="e.g. ws://127.0.0.1:PORT/")
    parser.add_argument("--api-url", required=True, help="e.g. http://127.0.0.1:PORT (the SDK adds /v2)")
    parser.add_argument("--scrip-master-url", help="default: API_URL/api-scrip-master-detailed.csv")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--access-token", required=True)
    args = parser.parse_args()
    scrip_url = args.scrip_master_url or args.api_url.rstrip("/") + "/api-scrip-master-detailed.csv"

    signal.signal(signal.SIGALRM, on_hard_timeout)
    signal.alarm(HARD_TIMEOUT_S)

    import dhanhq as sdk
    from importlib.metadata import version
    log(f"dhanhq {version('dhanhq')} (websockets {version('websockets')}), "
        f"feed {args.feed_url}, api {args.api_url}")

    passed, failed = 0, 0
    master = nifty_ltp = None

    def run(name, fn, *fn_args):
        nonlocal passed, failed
        try:
            result = fn(*fn_args)
            passed += 1
            return result
        except CheckFailed as e:
            log(f"FAIL {e}")
        except Exception:
            log(f"FAIL {name}: unexpected error\n{traceback.format_exc()}")
        failed += 1
        return None

    master = run("scrip master", check_scrip_master, scrip_url)
    if master is not None:
        nifty_ltp = run("feed", check_feed, args.feed_url, args.client_id, args.access_token, master)
    else:
        log("FAIL feed: skipped, no instruments from the scrip master")
        failed += 1
    run("rest", check_rest, args.api_url, args.client_id, args.access_token, master, nifty_ltp)

    signal.alarm(0)
    del sdk
    log(f"dhan_sdk: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
