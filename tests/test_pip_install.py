"""tools/pip_install.py: uv gets the indexes, local wheels and constraints that pip's configuration names."""

from tools.pip_install import uv_args


def test_pip_configuration_becomes_uv_options_once_each_in_order():
    pairs = [("cert", "/etc/ssl/certs/ca.crt"), ("default-timeout", "180"), ("find-links", "/opt/wheels"),
             ("constraint", "/etc/xdg/pip/constraints.txt"),
             ("extra-index-url", "file:///opt/a/simple file:///opt/b/simple"),
             ("find-links", "/opt/wheels")]  # the same folder from PIP_FIND_LINKS and from pip.conf
    assert uv_args(pairs) == [
        "--index-strategy", "unsafe-best-match",  # pip's rule: the best version over every index
        "--find-links", "/opt/wheels", "--constraint", "/etc/xdg/pip/constraints.txt",
        "--extra-index-url", "file:///opt/a/simple", "--extra-index-url", "file:///opt/b/simple"]


def test_no_configuration_leaves_uv_on_pypi():
    assert uv_args([]) == ["--index-strategy", "unsafe-best-match"]
    assert uv_args([("index-url", "https://mirror.example/simple")])[-2:] == [
        "--index-url", "https://mirror.example/simple"]
