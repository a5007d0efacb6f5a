#!/usr/bin/env bash
# browser-check.sh — open the self-contained HTML report in headless Chromium, screenshot it at
# desktop and phone width, and fail if the page is broken.
#
# Usage: scripts/browser-check.sh [options] [HTML [PNG_DIR]]
#   HTML      page to check                    (default: output/report.html)
#   PNG_DIR   where the screenshots are written (default: a new temporary directory)
# Options:
#   --allow-skip         exit 0 with "browser check skipped: chromium not installed" when no
#                        Chromium is found (without it that case exits 2)
#   --no-content-check   do not require visible MathML or SVG on the page
#   --strict             also fail on warnings (console warnings, horizontal overflow)
#   --min-ink FRACTION   least share of pixels that differ from the dominant colour before a
#                        screenshot counts as blank (default 0.002)
#   --timeout SECONDS    per-page load limit (default 60)
#   -h, --help           this text
# Environment: CHROMIUM=/path/to/binary overrides the browser looked up on PATH
# (chromium, then chromium-browser).
#
# Checks, at 1280 px (desktop) and 390 px (phone, mobile emulation) wide:
#   (a) the page loads (file exists, navigation succeeds, load event fires in time), and nothing
#       is logged at level error: console.error/console.assert, uncaught exceptions, failed
#       resource loads, CSP violations. Any request that is not file:, data:, blob: or about:
#       is an error too (a self-contained page makes none); http(s) requests are refused
#       before they reach the network. Warnings are printed (failures under --strict).
#   (b) the full-page PNG is not blank: its pixels are decoded (Python stdlib: zlib + PNG row
#       filters) and fewer than --min-ink of them may differ from the most common colour.
#   (c) at least one <math> or <svg> element is rendered with a non-empty box (unless
#       --no-content-check).
# Screenshots: PNG_DIR/<name>-desktop-1280.png and PNG_DIR/<name>-phone-390.png, the full page
# height (capped at 16000 px, Chromium's texture limit), device scale factor 1.
#
# How console errors are captured (the choice): the DevTools protocol. Chromium is started with
# --remote-debugging-port=0 and writes the port it picked to DevToolsActivePort in its profile
# directory; a small Python 3 stdlib-only WebSocket client (below, no pip packages) drives one
# page. This is more reliable than grepping `--enable-logging=stderr` output: the protocol
# reports the level of every console message, uncaught exceptions and failed loads as
# structured events, tells when the load event fired, sets the viewport width, and measures the
# page for the full-height screenshot — all in one browser run, with no log-format guessing.
#
# Needs: chromium (Debian: `apt-get install chromium`; installs nothing itself), python3.
# Exit codes: 0 all checks passed (or skipped with --allow-skip); 1 a check failed;
# 2 the check could not run (bad usage, missing file, no Chromium, no python3, browser failure).
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

allow_skip=0
content_check=1
strict=0
min_ink=0.002
timeout=60
positional=()
while (($#)); do
  case "$1" in
    --allow-skip) allow_skip=1 ;;
    --no-content-check) content_check=0 ;;
    --strict) strict=1 ;;
    --min-ink) min_ink="${2:?--min-ink needs a value}"; shift ;;
    --timeout) timeout="${2:?--timeout needs a value}"; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; positional+=("$@"); break ;;
    -*) echo "browser-check: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) positional+=("$1") ;;
  esac
  shift
done
if ((${#positional[@]} > 2)); then
  echo "browser-check: too many arguments" >&2
  exit 2
fi
html="${positional[0]:-output/report.html}"
png_dir="${positional[1]:-}"

browser="${CHROMIUM:-}"
if [[ -z "$browser" ]]; then
  browser="$(command -v chromium || command -v chromium-browser || true)"
fi
if [[ -z "$browser" || ! -x "$browser" ]]; then
  if ((allow_skip)); then
    echo "browser check skipped: chromium not installed"
    exit 0
  fi
  echo "browser-check: chromium not installed (apt-get install chromium), or pass --allow-skip" >&2
  exit 2
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "browser-check: python3 is required" >&2
  exit 2
fi
if [[ ! -f "$html" ]]; then
  echo "browser-check: FAIL: $html does not exist" >&2
  exit 2
fi
if [[ -z "$png_dir" ]]; then
  png_dir="$(mktemp -d "${TMPDIR:-/tmp}/browser-check.XXXXXX")"
fi
mkdir -p "$png_dir"

profile="$(mktemp -d "${TMPDIR:-/tmp}/browser-check-profile.XXXXXX")"
browser_log="$profile.log"
browser_pid=""
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  if [[ -n "$browser_pid" ]] && kill -0 "$browser_pid" 2>/dev/null; then
    kill "$browser_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$browser_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$browser_pid" 2>/dev/null || true
  fi
  rm -rf "$profile" "$browser_log"
}
trap cleanup EXIT

flags=(--headless --disable-gpu --disable-quic --no-first-run --disable-background-networking
  --disable-component-update --disable-sync --disable-default-apps --disable-extensions
  --hide-scrollbars --mute-audio "--user-data-dir=$profile" --remote-debugging-address=127.0.0.1
  --remote-debugging-port=0)
if [[ "$(id -u)" == 0 ]]; then
  flags+=(--no-sandbox)
fi
"$browser" "${flags[@]}" about:blank >"$browser_log" 2>&1 &
browser_pid=$!

set +e
python3 - "$html" "$png_dir" "$profile" "$browser_pid" "$content_check" "$strict" "$min_ink" \
  "$timeout" <<'PY'
import base64, json, math, os, socket, struct, sys, time, urllib.parse, urllib.request, zlib

html, png_dir, profile, browser_pid = sys.argv[1:5]
content_check, strict = sys.argv[5] == "1", sys.argv[6] == "1"
min_ink, load_timeout = float(sys.argv[7]), float(sys.argv[8])
MAX_HEIGHT = 16000
VIEWS = [("desktop", 1280, 800, False), ("phone", 390, 844, True)]


class SetupError(Exception):
    pass


class Unresponsive(Exception):
    """The page did not answer in time (a script that never ends, a hung renderer…)."""


def alive(pid):
    try:
        os.kill(int(pid), 0)
        return True
    except OSError:
        return False


# ---- a minimal WebSocket client (RFC 6455), enough for the DevTools protocol ----------------
class WebSocket:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise SetupError("DevTools closed the connection during the handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        self.partial = b""
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise SetupError("DevTools refused the WebSocket: " + head.decode(errors="replace"))

    def _frame(self):
        """Take one complete frame off the buffer: (fin, opcode, payload), or None."""
        b = self.buf
        if len(b) < 2:
            return None
        n, pos = b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, pos = struct.unpack(">H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, pos = struct.unpack(">Q", b[2:10])[0], 10
        mask = None
        if b[1] & 0x80:
            mask, pos = b[pos:pos + 4], pos + 4
        if len(b) < pos + n:
            return None
        data, self.buf = b[pos:pos + n], b[pos + n:]
        if mask:
            data = bytes(x ^ mask[i % 4] for i, x in enumerate(data))
        return bool(b[0] & 0x80), b[0] & 0x0F, data

    def send(self, text):
        payload = text.encode()
        head = bytes([0x81])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def recv(self, deadline):
        """The next text message, or None if none is complete by `deadline` (monotonic)."""
        while True:
            frame = self._frame()
            if frame is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.sock.settimeout(left)
                try:
                    chunk = self.sock.recv(1 << 20)
                except socket.timeout:
                    return None
                if not chunk:
                    raise SetupError("DevTools connection closed (did Chromium crash?)")
                self.buf += chunk
                continue
            fin, opcode, data = frame
            if opcode == 0x8:
                raise SetupError("DevTools closed the connection")
            if opcode == 0x9:  # ping → pong
                self.sock.sendall(bytes([0x8A, 0x80 | len(data)]) + b"\0\0\0\0" + data)
                continue
            if opcode in (0x0, 0x1, 0x2):
                self.partial += data
                if fin:
                    message, self.partial = self.partial, b""
                    return message.decode()


# ---- the DevTools session --------------------------------------------------------------------
class Page:
    def __init__(self, ws):
        self.ws, self.next_id, self.events = ws, 0, []

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        return self.next_id

    def on_event(self, msg):
        # Requests to the network are paused by Fetch.enable and refused here at once.
        if msg["method"] == "Fetch.requestPaused":
            self.send("Fetch.failRequest", requestId=msg["params"]["requestId"],
                      errorReason="BlockedByClient")
        self.events.append(msg)

    def call(self, method, timeout=None, **params):
        my_id = self.send(method, **params)
        deadline = time.monotonic() + (timeout or load_timeout)
        while True:
            msg = self.ws.recv(deadline)
            if msg is None:
                raise Unresponsive(f"no answer to {method} within {timeout or load_timeout:g} s")
            msg = json.loads(msg)
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise SetupError(f"{method}: {msg['error'].get('message')}")
                return msg.get("result", {})
            if "method" in msg:
                self.on_event(msg)

    def wait_for(self, method, timeout):
        """The next event named `method` within `timeout` seconds, or None; others are kept."""
        for k, e in enumerate(self.events):
            if e["method"] == method:
                return self.events.pop(k)
        deadline = time.monotonic() + timeout
        while True:
            msg = self.ws.recv(deadline)
            if msg is None:
                return None
            msg = json.loads(msg)
            if "method" in msg:
                if msg["method"] == method:
                    return msg
                self.on_event(msg)

    def evaluate(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise SetupError("page script failed: " + json.dumps(r["exceptionDetails"])[:300])
        return r["result"].get("value")


def connect():
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + 30
    while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
        if not alive(browser_pid):
            raise SetupError("Chromium exited at start-up (see its log above)")
        if time.monotonic() > deadline:
            raise SetupError("Chromium did not open its DevTools port within 30 s")
        time.sleep(0.1)
    time.sleep(0.1)
    port = open(port_file).read().split()[0]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for _ in range(50):
        targets = json.load(opener.open(f"http://127.0.0.1:{port}/json/list", timeout=10))
        pages = [t for t in targets if t.get("type") == "page"]
        if pages:
            return Page(WebSocket(pages[0]["webSocketDebuggerUrl"]))
        time.sleep(0.1)
    raise SetupError("Chromium has no page target")


# ---- PNG reading (stdlib only) ---------------------------------------------------------------
def png_pixels(path):
    """Return (width, height, bytes per pixel, list of unfiltered rows) of an 8-bit PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat = 8, []
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {color}, interlace {interlace})")
    bpp, stride = channels, w * channels
    raw = zlib.decompress(b"".join(idat))
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif f == 2:
            line = bytearray(bytes(a + b & 0xFF for a, b in zip(line, prev)))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        elif f != 0:
            raise ValueError(f"bad PNG filter type {f}")
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def ink_fraction(path):
    """Share of pixels whose colour differs from the most common one."""
    w, h, bpp, rows = png_pixels(path)
    counts = {}
    for row in rows:
        for x in range(0, len(row), bpp):
            px = row[x:x + bpp]
            counts[px] = counts.get(px, 0) + 1
    return 1 - max(counts.values()) / (w * h), w, h


# ---- the checks --------------------------------------------------------------------------------
MEASURE = """(W => {
  const sticksOut = e => e.getBoundingClientRect().right > W + 1;
  const clipped = e => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible' && !sticksOut(a)) return true;
    }
    return false;
  };
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const math = [...document.querySelectorAll('math')];
  const svg = [...document.querySelectorAll('svg')];
  const root = document.documentElement;
  return {
    height: Math.ceil(Math.max(root.scrollHeight, document.body ? document.body.scrollHeight : 0)),
    scrollWidth: root.scrollWidth, innerWidth: window.innerWidth,
    scale: window.visualViewport ? window.visualViewport.scale : 1,
    math: math.length, mathVisible: math.filter(visible).length,
    svg: svg.length, svgVisible: svg.filter(visible).length,
    // Innermost elements that stick out past the screen's right edge (CSS px), leaving out
    // those inside a scroll box that itself fits.
    wide: [...document.body.querySelectorAll('*')]
      .filter(e => sticksOut(e) && ![...e.children].some(sticksOut) && !clipped(e))
      .slice(0, 3)
      .map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
        ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
        + ' "' + (e.textContent || '').trim().slice(0, 30) + '"'),
  };
})"""


def describe(event):
    m, p = event["method"], event["params"]
    if m == "Runtime.consoleAPICalled":
        text = " ".join(str(a.get("value", a.get("description", a.get("type")))) for a in p.get("args", []))
        level = {"error": "error", "assert": "error", "warning": "warning"}.get(p.get("type"))
        return level, f"console.{p.get('type')}: {text}"
    if m == "Runtime.exceptionThrown":
        d = p["exceptionDetails"]
        text = (d.get("exception", {}).get("description") or d.get("text") or "").splitlines()[0:1]
        text = text[0] if text else "?"
        return "error", f"uncaught exception: {text} ({d.get('url', '')}:{d.get('lineNumber', 0) + 1})"
    if m == "Network.requestWillBeSent":
        url = p["request"]["url"]
        if urllib.parse.urlsplit(url).scheme not in ("file", "data", "blob", "about"):
            return "error", f"not self-contained: the page requests {url}"
        return None, ""
    if m == "Log.entryAdded":
        e = p["entry"]
        level = e.get("level")
        where = f" ({e['url']})" if e.get("url") else ""
        return (level if level in ("error", "warning") else None), f"{e.get('source')}: {e.get('text')}{where}"
    return None, ""


def check_view(page, url, name, width, height, mobile):
    """Load, measure and screenshot at one width: (errors, warnings, info or None)."""
    errors, warnings, seen = [], [], set()

    def collect():
        for event in page.events:
            level, text = describe(event)
            if level and (level, text) not in seen:
                seen.add((level, text))
                (errors if level == "error" else warnings).append(text)
        page.events.clear()

    try:
        return view_steps(page, url, name, width, height, mobile, errors, warnings, collect)
    except Unresponsive as e:
        collect()
        errors.append(f"page stopped responding: {e}")
        raise PageHung(errors, warnings)


class PageHung(Exception):
    pass


def view_steps(page, url, name, width, height, mobile, errors, warnings, collect):
    page.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
              deviceScaleFactor=1, mobile=mobile)
    nav = page.call("Page.navigate", url=url)
    if nav.get("errorText"):
        errors.append(f"page failed to load: {nav['errorText']}")
        collect()
        return errors, warnings, None
    if page.wait_for("Page.loadEventFired", load_timeout) is None:
        errors.append(f"page did not finish loading within {load_timeout:g} s")
        collect()
        return errors, warnings, None
    page.evaluate("document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))))")
    m = page.evaluate(f"{MEASURE}({width})")
    if m["innerWidth"] != width or m["scrollWidth"] > m["innerWidth"] + 1:
        wide = "; ".join(m["wide"]) or "no <meta name=viewport>?"
        warnings.append(f"content is {max(m['innerWidth'], m['scrollWidth'])} px wide on a {width} px "
                        f"screen (horizontal scrolling or zoomed out): {wide}")
    tall = math.ceil(m["height"] * (m["scale"] or 1))  # CSS px → device px
    full = max(height, min(tall, MAX_HEIGHT))
    if tall > MAX_HEIGHT:
        warnings.append(f"page is {tall} px tall; screenshot cut at {MAX_HEIGHT} px")
    page.call("Emulation.setDeviceMetricsOverride", width=width, height=full,
              deviceScaleFactor=1, mobile=mobile)
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    shot = page.call("Page.captureScreenshot", format="png")
    png = os.path.join(png_dir, f"{os.path.splitext(os.path.basename(html))[0]}-{name}-{width}.png")
    with open(png, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    page.wait_for("Page.frameNavigated", 0.3)  # let late console messages arrive
    collect()

    if content_check and m["mathVisible"] + m["svgVisible"] == 0:
        errors.append(f"no visible MathML or SVG (found {m['math']} <math>, {m['svg']} <svg>, none with a non-empty box)")
    try:
        ink, w, h = ink_fraction(png)
    except (ValueError, zlib.error, UnboundLocalError) as e:
        errors.append(f"cannot read the screenshot {png}: {e}")
        return errors, warnings, (png, m, None, None)
    if ink < min_ink:
        errors.append(f"screenshot is blank: {100 * (1 - ink):.2f}% of its {w}x{h} pixels are one colour")
    return errors, warnings, (png, m, ink, f"{w}x{h}")


def main():
    url = "file://" + urllib.parse.quote(os.path.abspath(html))
    try:
        page = connect()
        for domain in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
            page.call(domain)
        # Self-contained means no network: any request other than file:, data:, blob: or
        # about: is an error (Network.requestWillBeSent), and so is any failed load. Such
        # requests are refused (Fetch), so the check itself never reaches the network.
        page.call("Fetch.enable", patterns=[{"urlPattern": "http://*"}, {"urlPattern": "https://*"}])
        page.call("Network.setCacheDisabled", cacheDisabled=True)
        results = []
        for name, w, h, mobile in VIEWS:
            try:
                results.append((name, w) + check_view(page, url, name, w, h, mobile))
            except PageHung as hung:
                results.append((name, w) + tuple(hung.args) + (None,))
                break  # the renderer is stuck: later views would only time out too
    except (SetupError, Unresponsive, OSError, ValueError, KeyError) as e:
        print(f"browser-check: could not run the check: {e}", file=sys.stderr)
        return 2
    failed = False
    print(f"browser-check: {html}")
    for name, width, errors, warnings, info in results:
        if info:
            png, m, ink, size = info
            ink_text = "?" if ink is None else f"{100 * ink:.1f}%"
            print(f"  {name:7} {width:4} px: {png} ({size or '?'} px, ink {ink_text}, "
                  f"<math> {m['mathVisible']}/{m['math']} visible, <svg> {m['svgVisible']}/{m['svg']} visible)")
        else:
            print(f"  {name:7} {width:4} px: no screenshot")
        for w in warnings:
            print(f"    warning: {w}")
        for e in errors:
            print(f"    ERROR: {e}")
        failed |= bool(errors) or (strict and bool(warnings))
    if failed:
        print("browser-check: FAIL" + (" (warnings count as failures under --strict)" if strict else ""), file=sys.stderr)
        return 1
    print("browser-check: OK")
    return 0


sys.exit(main())
PY
status=$?
set -e
if ((status == 2)) && [[ -s "$browser_log" ]]; then
  echo "--- chromium log (last 20 lines) ---" >&2
  grep -v -e 'dbus' -e 'Fontconfig' "$browser_log" | tail -n 20 >&2
fi
exit "$status"
