"""Generates large but valid configurations for the --check scaling test and
bench/config/check_scale.py. Every line stays under inih's 200 characters."""

KINDS = ("holding", "input", "coil", "discrete")


def header(state_dir="/tmp/ef-scale-state"):
    return (f"[gateway]\nid = gw\nstate_dir = {state_dir}\n\n"
            "[mqtt]\nuri = tcp://127.0.0.1:1883\n\n")


def register(i):
    """Distinct (kind, address) for i < 4 * 65536, in descending order, so
    that a sort that is fast only on sorted input shows it."""
    kind = KINDS[i % 4]
    return f"{kind}:{65535 - (i // 4)}"


def one_device(points):
    """One device with POINTS points: half from a template, the other half
    its own, a tenth of which override template points of the same name."""
    out = [header(), "[bus:b]\ntype = tcp\nhost = 127.0.0.1\n\n",
           "[template:t]\ninterval_ms = 1000\n\n",
           "[device:d]\nbus = b\nunit = 1\ntemplate = t\n\n"]
    half = points // 2
    for i in range(half):
        out.append(f"[point:t.p{i}]\nregister = {register(i)}\n")
    overrides = half // 10
    for i in range(points - half):
        name = f"p{i}" if i < overrides else f"q{i}"
        out.append(f"[point:d.{name}]\nregister = {register(half + i)}\n")
    return "".join(out), points - overrides


def many_devices(devices, points_per_device=4, per_bus=200):
    """DEVICES devices of POINTS_PER_DEVICE own points, PER_BUS to a bus."""
    out = [header()]
    for b in range((devices + per_bus - 1) // per_bus):
        out.append(f"[bus:b{b}]\ntype = tcp\nhost = 127.0.0.1\nport = {1024 + b}\n\n")
    for d in range(devices):
        out.append(f"[device:d{d}]\nbus = b{d // per_bus}\nunit = {1 + d % per_bus}\n")
        for p in range(points_per_device):
            out.append(f"[point:d{d}.p{p}]\nregister = {register(p)}\n")
    return "".join(out), devices * points_per_device


def duplicate_units(devices):
    """DEVICES devices with the same unit on one bus: DEVICES - 1 errors."""
    out = [header(), "[bus:b]\ntype = tcp\nhost = 127.0.0.1\n\n"]
    for d in range(devices):
        out.append(f"[device:d{d}]\nbus = b\nunit = 5\n[point:d{d}.p]\nregister = coil:1\n")
    return "".join(out), devices
