#!/usr/bin/env python3
"""test_doc_packages.py -- the packages the install guide tells a reader
to install (the first fenced `apt-get install` of
doc/install-from-source.md, else README.md) are enough to build: every
package configure.ac names in its errors and the build tools of a git
checkout are among them. scripts/src-chroot-test installs exactly that
list in a fresh Debian 12 chroot and builds. And `make check` names a
missing test package in one line (scripts/lib.sh, sseq_check_pkgs)."""
import os
import subprocess

import harness

LIB = os.path.join(harness.SRCDIR, "scripts", "lib.sh")


def lib(code):
    """Runs bash code after sourcing scripts/lib.sh."""
    return subprocess.run(["bash", "-c", '. "$0" && ' + code, LIB],
                          capture_output=True, text=True, timeout=60)


class DocPackages(harness.TestCase):
    def test_doc_lists_what_the_build_needs(self):
        doc = lib("sseq_install_doc").stdout.strip()
        listed = set(lib("sseq_doc_pkgs").stdout.split())
        self.assertTrue(listed, "no fenced `apt-get install` line in " + doc)
        need = set(lib("sseq_configure_pkgs").stdout.split())
        self.assertIn("libfcgi-dev", need, "configure.ac's errors name "
                      "the packages: none found")
        need |= set(lib('echo "$SSEQ_BUILD_TOOLS"').stdout.split())
        self.assertEqual(sorted(need - listed), [],
                         "%s's apt-get install line lacks what ./configure "
                         "and a git checkout's build need" % doc)

    def test_extraction(self):
        """Continuation lines joined, sudo and options dropped, only the
        first command inside a fence counts."""
        path = os.path.join(harness.BUILDDIR, "doc-pkgs-test.md")
        with open(path, "w") as f:
            f.write("Run apt-get install nothing-outside-fences\n"
                    "```sh\nautoreconf -fi\n"
                    "sudo apt-get install -y gcc \\\n    make \\\n"
                    "    nginx\nsudo apt-get install second-command\n```\n")
        try:
            r = subprocess.run(["bash", "-c", '. "$0" && sseq_doc_pkgs "$1"',
                                LIB, path], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.stdout.split(), ["gcc", "make", "nginx"])
        finally:
            os.unlink(path)

    def test_missing_test_package_named(self):
        r = lib('SSEQ_CHECK_PKGS="$SSEQ_CHECK_PKGS no-such-sseq-pkg"; '
                'sseq_check_pkgs')
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
        self.assertIn("apt-get install no-such-sseq-pkg ", r.stderr)
        self.assertEqual(lib("sseq_check_pkgs").returncode, 0,
                         "this host has every test package")


if __name__ == "__main__":
    harness.main()
