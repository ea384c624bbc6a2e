"""Certificates for the TLS tests, made with the openssl command line.

One call to make_pki(dir) writes, as PEM files (EC P-256 keys, fast to make):
  ca.crt/.key            the test CA the gateway is told to trust
  server.crt/.key        signed by the CA, SAN IP:127.0.0.1 and DNS:localhost
  client.crt/.key        signed by the CA, for client-certificate authentication
  expired.crt/.key       like server, but its validity ended before it began
  otherca.crt/.key       a second CA the gateway does not trust
  foreign.crt/.key       a server cert for 127.0.0.1/localhost signed by otherca
  wronghost.crt/.key     signed by the CA but for wrong.example / 10.255.0.1
Returns a dict name -> (cert path, key path). Keys are mode 0600.
"""
import os
import subprocess


def _run(argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {r.stderr}")


def _newkey_args(key):
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key]


def _ca(d, name, cn):
    crt, key = os.path.join(d, f"{name}.crt"), os.path.join(d, f"{name}.key")
    _run(["openssl", "req", "-x509", *_newkey_args(key), "-out", crt, "-days", "30",
          "-subj", f"/CN={cn}", "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    return crt, key


def _leaf(d, name, ca, cn, san=None, days=30, client=False):
    crt, key = os.path.join(d, f"{name}.crt"), os.path.join(d, f"{name}.key")
    csr = os.path.join(d, f"{name}.csr")
    ext = os.path.join(d, f"{name}.ext")
    _run(["openssl", "req", "-new", *_newkey_args(key), "-out", csr, "-subj", f"/CN={cn}"])
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n")
        f.write(f"extendedKeyUsage={'clientAuth' if client else 'serverAuth'}\n")
        if san:
            f.write(f"subjectAltName={san}\n")
    # days=-1 gives notAfter one day before notBefore: expired from birth.
    _run(["openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
          "-CAcreateserial", "-days", str(days), "-extfile", ext, "-out", crt])
    return crt, key


def make_pki(d):
    good_san = "IP:127.0.0.1,DNS:localhost"
    out = {}
    out["ca"] = _ca(d, "ca", "edgeferry test CA")
    out["otherca"] = _ca(d, "otherca", "some other CA")
    out["server"] = _leaf(d, "server", out["ca"], "localhost", good_san)
    out["client"] = _leaf(d, "client", out["ca"], "edgeferry-gw", client=True)
    out["expired"] = _leaf(d, "expired", out["ca"], "localhost", good_san, days=-1)
    out["foreign"] = _leaf(d, "foreign", out["otherca"], "localhost", good_san)
    out["wronghost"] = _leaf(d, "wronghost", out["ca"], "wrong.example",
                             "DNS:wrong.example,IP:10.255.0.1")
    for crt, key in out.values():
        os.chmod(key, 0o600)
    return out
