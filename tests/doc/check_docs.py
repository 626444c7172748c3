#!/usr/bin/env python3
"""check_docs.py -- README.md and the guides in doc/ against the tree.

Every command the docs show a user (the lines of ```sh blocks, and code
spans in the text that start with a program) is either played by a test,
named by a marker before its block,

    <!-- played by tests/integration/test_install.py -->

(the test must exist and name the doc it plays), or at least refers to
things that exist:

- sseq, sseq-stream, sseq-publish, sseq-bridge: the command and every
  option, against the built program's --help (`sseq COMMAND --help`);
- sseq-spawn: its action and role, against the script's usage;
- ./configure options against `configure --help`, make targets against
  the build's Makefile, systemctl/journalctl units against
  fcgi-conf/systemd/, `man` pages against doc/man/ (FILE or FILE.in);
- curl URLs: the path is a location of the nginx snippet;
- any other program is on PATH;
- files named under fcgi-conf/, scripts/, tests/, www/, src/, bench/,
  fuzz/, debian/ and doc/ exist (FILE or FILE.in; the nginx snippets
  as /etc/nginx/snippets/ names them too);
- settings (`group.name` code spans, and the config blocks) against the
  effective configuration `sseq check-config` prints for
  fcgi-conf/sseq.conf.example;
- every relative link between the docs resolves, to the file and to
  the heading its #anchor names (only links present are checked).

Prints one line per command (played by which test, or checked) and one
per problem; exits 1 on any problem. Run by `make check` with
SSEQ_SRCDIR and SSEQ_BUILDDIR set (tests/doc/doc.am), or by hand:
    SSEQ_SRCDIR=. SSEQ_BUILDDIR=_build/w python3 tests/doc/check_docs.py
"""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys

SRC = os.path.abspath(os.environ.get("SSEQ_SRCDIR", "."))
BUILD = os.path.abspath(os.environ.get("SSEQ_BUILDDIR", SRC))

OWN = ("sseq", "sseq-stream", "sseq-publish", "sseq-bridge")
# Scripts make install puts on PATH, and their source in the tree.
SCRIPTS = {"sseq-nginx-conf": "fcgi-conf/nginx/sseq-nginx-conf.in",
           "sseq-bridge-start": "fcgi-conf/spawn-fcgi/sseq-bridge-start.in"}
# Programs a doc may name that need not be on this machine's PATH: sudo
# (the tests run as root), and what the docs install first.
ABSENT_OK = {"sudo", "apt", "apt-get"}
# Code spans of the form group.name that are not settings: the fields of
# a Mercure JWT's "mercure" claim.
NOT_SETTINGS = {"mercure.publish", "mercure.subscribe"}
# Shell words that start a command but are not programs.
SHELL_WORDS = {"then", "do", "else", "fi", "done", "if", "while", "for",
               "export", "cd", "set", "true", "false", "wait", "kill"}

problems = []
lines_out = []


def problem(where, what):
    problems.append("%s: %s" % (where, what))


def run(args):
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return r.stdout + r.stderr


# ---- what the tree offers -------------------------------------------------

def prog_path(name):
    return os.path.join(BUILD, "src", name)


HELP = {}


def help_of(*args):
    """The --help text of a built program (or sseq COMMAND); '' if none."""
    if args not in HELP:
        exe = prog_path(args[0])
        HELP[args] = run([exe] + list(args[1:]) + ["--help"]) \
            if os.access(exe, os.X_OK) else ""
    return HELP[args]


def options_in(text):
    return set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", text))


def sseq_commands():
    text = help_of("sseq")
    m = re.search(r"^commands:\n((?:  \S.*\n)+)", text, re.M)
    return set(l.split()[0] for l in m.group(1).splitlines()) if m else set()


def spawn_usage():
    """(actions, roles) from sseq-spawn's usage message."""
    with open(os.path.join(SRC, "fcgi-conf/spawn-fcgi/sseq-spawn.in")) as f:
        text = f.read()
    # one string, or the actions and the roles in strings of their own
    m = re.search(r"\[([a-z|]+)\]\"?\s*\\?\s*\"?([a-z|]+)\"", text)
    return set(m.group(1).split("|")), set(m.group(2).split("|"))


def settings():
    """Every setting as group.name (or name at the top level), from the
    effective configuration check-config prints for the example."""
    out = run([prog_path("sseq"), "-c",
               os.path.join(SRC, "fcgi-conf/sseq.conf.example"),
               "check-config"])
    names, group = set(), None
    for line in out.splitlines():
        m = re.match(r"^(\w+): \{$", line)
        if m:
            group = m.group(1)
            names.add(group)
            continue
        if line.startswith("};"):
            group = None
            continue
        m = re.match(r"^\s*(\w+) = ", line)
        if m:
            names.add(group + "." + m.group(1) if group else m.group(1))
    return names


def nginx_locations():
    with open(os.path.join(SRC, "fcgi-conf/nginx/sseq.conf")) as f:
        return re.findall(r"^location (=?) ?(\S+) \{", f.read(), re.M)


def configure_options():
    return options_in(run(["sh", os.path.join(SRC, "configure"),
                           "--help"]))


def make_targets():
    try:
        with open(os.path.join(BUILD, "Makefile")) as f:
            text = f.read()
    except OSError:
        return set()
    return set(re.findall(r"^([\w.-]+):", text, re.M))


def expand_braces(word):
    m = re.search(r"\{([^{}]*,[^{}]*)\}", word)
    if not m:
        return [word]
    out = []
    for alt in m.group(1).split(","):
        out += expand_braces(word[:m.start()] + alt + word[m.end():])
    return out


def tree_file(path):
    """The file of the tree a path in the docs names, or None when the
    path is not one of the tree's."""
    path = path.replace("[.]", ".")
    m = re.search(r"(?:^|/)((?:fcgi-conf|scripts|tests|www|src|bench|fuzz|"
                  r"debian|doc)/[\w./*{},-]*)$", path)
    if m and not path.startswith(("/etc/", "/var/", "/run/", "/dev/")):
        return m.group(1)
    m = re.match(r"^(?:/etc/nginx/)?snippets/(sseq[\w.-]*\.conf)$", path)
    if m:
        return "fcgi-conf/nginx/" + m.group(1)
    return None


def check_file(where, rel):
    for p in expand_braces(rel):
        if p.endswith("/"):
            ok = os.path.isdir(os.path.join(SRC, p))
        else:
            ok = any(glob.glob(os.path.join(SRC, p + sfx))
                     for sfx in ("", ".in"))
        if not ok:
            problem(where, "no file %s in the tree" % p)


# ---- the docs ---------------------------------------------------------------

def doc_files():
    return ["README.md"] + sorted(
        os.path.relpath(p, SRC) for p in glob.glob(os.path.join(SRC,
                                                                "doc/*.md")))


def slug(heading, seen):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s).replace(" ", "-")
    n = seen.get(s, 0)
    seen[s] = n + 1
    return s if n == 0 else "%s-%d" % (s, n)


def parse(doc):
    """Blocks [(lang, line, [lines], played_by)], paragraphs
    [(line, text)] outside code, and heading anchors."""
    with open(os.path.join(SRC, doc)) as f:
        lines = f.read().split("\n")
    blocks, paras, anchors, seen = [], [], set(), {}
    fence, para, marker = None, None, None
    for i, line in enumerate(lines, 1):
        if fence is not None:
            if re.match(r"^\s*```\s*$", line):
                blocks.append(fence)
                fence = None
            else:
                fence[2].append(line)
            continue
        m = re.match(r"^\s*```(\w*)", line)
        if m:
            if para:
                paras.append(para)
                para = None
            fence = (m.group(1), i + 1, [], marker)
            marker = None
            continue
        m = re.match(r"^\s*<!--\s*played by ([\w./-]+)", line)
        if m:
            marker = m.group(1)
            continue
        if line.strip():
            marker = None       # a marker names the block right after it
        m = re.match(r"^#+ (.*)$", line)
        if m:
            anchors.add(slug(re.sub(r"`", "", m.group(1)), seen))
        if line.strip():
            if para:
                para = (para[0], para[1] + " " + line.strip())
            else:
                para = (i, line.strip())
        else:
            if para:
                paras.append(para)
            para = None
    if para:
        paras.append(para)
    return blocks, paras, anchors


def logical_lines(block_lines, first):
    """(line number, text) of a shell block, continuations joined."""
    out, cur, start = [], "", first
    for n, l in enumerate(block_lines, first):
        if not cur:
            start = n
        if l.rstrip().endswith("\\"):
            cur += l.rstrip()[:-1] + " "
            continue
        cur += l
        if cur.strip() and not cur.strip().startswith("#"):
            out.append((start, cur.strip()))
        cur = ""
    return out


def simple_commands(text):
    """The simple commands of a shell line: lists of words, redirections
    and leading assignments left out."""
    lex = shlex.shlex(text, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    try:
        toks = list(lex)
    except ValueError as e:
        return None, str(e)
    cmds, cur, skip = [], [], False
    for t in toks:
        if skip:
            skip = False
            continue
        if t in ("&&", "||", "|", ";", "&", "(", ")", ";;"):
            if cur:
                cmds.append(cur)
            cur = []
            continue
        if t in (">", ">>", "<", ">&", "2>", "<<"):
            if cur and re.fullmatch(r"\d", cur[-1]):
                cur.pop()
            skip = True
            continue
        if not cur and re.match(r"^\w+=", t):
            continue
        cur.append(t.rstrip("$") if t.endswith("=$") else t)
    if cur:
        cmds.append(cur)
    return [c for c in cmds if c and not re.match(r"^\w+=\$?$", c[0])], None


# ---- checks ---------------------------------------------------------------

SPAWN = None
SETTINGS = None
LOCATIONS = None
CONFIGURE = None
TARGETS = None


def check_command(where, words):
    """Checks one simple command; returns a word for the report."""
    while words and words[0] in ("sudo", "env", "exec"):
        words = words[1:]
        while words and words[0].startswith("-"):      # sudo -u USER
            words = words[2:] if words[0] in ("-u", "-g") else words[1:]
        while words and re.match(r"^\w+=", words[0]):   # env VAR=value
            words = words[1:]
    if not words:
        return "empty"
    prog, args = words[0], words[1:]
    for w in words:
        rel = tree_file(w.split("=", 1)[-1])
        if rel and "$" not in rel:
            check_file(where, rel)
    base = os.path.basename(prog)
    if base in OWN:
        return check_own(where, base, args)
    if base == "sseq-spawn":
        actions, roles = SPAWN
        a = [x for x in args if not x.startswith("-")]
        if a and a[0] in actions:
            a = a[1:]
        if not a or (a[0] not in roles and not a[0].isupper()):
            problem(where, "sseq-spawn %s: want [%s] %s" % (
                " ".join(args), "|".join(sorted(actions)),
                "|".join(sorted(roles))))
        return "sseq-spawn"
    if base in SCRIPTS:     # installed from the tree, not built
        check_file(where, SCRIPTS[base])
        return base
    if prog.startswith(("./scripts/", "scripts/")):
        rel = prog[2:] if prog.startswith("./") else prog
        path = os.path.join(SRC, rel)
        if not os.path.exists(path):
            return "missing"
        with open(path) as f:
            text = f.read()
        for a in args:
            if not re.search(r"(^|[\s|(\[])%s([)|\s\]]|$)" % re.escape(a),
                             text, re.M):
                problem(where, "%s does not take %s" % (rel, a))
        return rel
    if prog == "./configure":
        for a in args:
            if a.startswith("--") and a.split("=")[0] not in CONFIGURE:
                problem(where, "./configure has no %s" % a.split("=")[0])
        return "configure"
    if prog == "make":
        for a in args:
            if not a.startswith("-") and "=" not in a and a not in TARGETS:
                problem(where, "make has no target %s" % a)
        return "make"
    if prog in ("systemctl", "journalctl"):
        for a in args:
            if a.startswith("sseq"):
                unit = a if "." in a else a + ".service"
                check_file(where, "fcgi-conf/systemd/" + unit)
        return prog
    if prog == "man":
        for a in args:
            if not glob.glob(os.path.join(SRC, "doc/man", a + ".[158]")) \
                    and not glob.glob(os.path.join(SRC, "doc/man",
                                                   a + ".[158].in")):
                problem(where, "no manual page %s" % a)
        return "man"
    if prog == "curl":
        for a in args:
            m = re.match(r"^https?://(127\.0\.0\.1|localhost)(:\d+)?(/[^?]*)",
                         a)
            if m:
                path = m.group(3)
                if not any((eq and path == loc) or
                           (not eq and path.startswith(loc))
                           for eq, loc in LOCATIONS):
                    problem(where, "%s is no location of "
                            "fcgi-conf/nginx/sseq.conf" % path)
        return "curl"
    if prog in SHELL_WORDS or prog.startswith("$"):
        return "shell"
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    if not shutil.which(prog, path=path) and prog not in ABSENT_OK:
        problem(where, "%s is not a program on PATH (if it is a Debian "
                "package's, scripts/lib.sh lists what the tests install)"
                % prog)
    return "external"


def check_own(where, prog, args):
    if prog == "sseq":
        allowed = options_in(help_of("sseq"))
        rest = list(args)
        while rest and rest[0].startswith("-"):
            if rest[0] not in allowed:
                problem(where, "sseq has no option %s" % rest[0])
            rest = rest[2:] if rest[0] in ("-c",) else rest[1:]
        if not rest:
            return "sseq"
        cmd = rest[0]
        if cmd not in sseq_commands():
            problem(where, "sseq has no command %s" % cmd)
            return "sseq"
        allowed |= options_in(help_of("sseq", cmd))
        opts = rest[1:]
    else:
        allowed = options_in(help_of(prog))
        opts = args
    for a in opts:
        if a.startswith("-") and a != "-":
            o = a.split("=", 1)[0]
            if o not in allowed:
                problem(where, "%s has no option %s (its --help: %s)" % (
                    prog, o, " ".join(sorted(allowed))))
    return prog


def check_setting(where, name):
    group = name.split(".")[0]
    if name in NOT_SETTINGS or name in SETTINGS:
        return True
    if "." in name and group in SETTINGS:
        problem(where, "no setting %s (fcgi-conf/sseq.conf.example)" % name)
        return True
    return False


def check_config_block(where, text):
    """Names set in a libconfig fragment, outside lists."""
    stack, depth_list = [], 0
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    for m in re.finditer(r"(\w+)\s*[:=]\s*(\{|\(|\[)?|([{}()\[\]])", text):
        if m.group(3):
            c = m.group(3)
            if c in "([":
                depth_list += 1
            elif c in ")]":
                depth_list -= 1
            elif c == "}" and stack and not depth_list:
                stack.pop()
            continue
        if depth_list:
            if m.group(2) in ("(", "["):
                depth_list += 1
            continue
        name = ".".join(stack + [m.group(1)])
        if name not in SETTINGS:
            problem(where, "no setting %s (fcgi-conf/sseq.conf.example)"
                    % name)
        if m.group(2) == "{":
            stack.append(m.group(1))
        elif m.group(2) in ("(", "["):
            depth_list += 1


def check_links(doc, paras, anchors_of):
    n = 0
    for line, text in paras:
        for m in re.finditer(r"\[[^\]]*\]\(([^)\s]+)\)", text):
            target = m.group(1)
            if re.match(r"^[a-z]+:", target):
                continue
            n += 1
            where = "%s:%d" % (doc, line)
            path, _, anchor = target.partition("#")
            rel = os.path.normpath(os.path.join(os.path.dirname(doc),
                                                path)) if path else doc
            if not os.path.exists(os.path.join(SRC, rel)):
                problem(where, "link %s: no file %s" % (target, rel))
                continue
            if anchor and rel.endswith(".md"):
                if rel not in anchors_of:
                    anchors_of[rel] = parse(rel)[2]
                if anchor not in anchors_of[rel]:
                    problem(where, "link %s: %s has no heading #%s" % (
                        target, rel, anchor))
    return n


def played_ok(doc, where, test):
    path = os.path.join(SRC, test)
    if not os.path.exists(path):
        problem(where, "played by %s: no such test" % test)
        return False
    with open(path) as f:
        if doc not in f.read():
            problem(where, "played by %s: it does not name %s" % (test, doc))
            return False
    return True


def main():
    global SPAWN, SETTINGS, LOCATIONS, CONFIGURE, TARGETS
    if not os.access(prog_path("sseq"), os.X_OK):
        print("check_docs: no built sseq in %s/src (set SSEQ_BUILDDIR)"
              % BUILD)
        return 1
    SPAWN = spawn_usage()
    SETTINGS = settings()
    LOCATIONS = nginx_locations()
    CONFIGURE = configure_options()
    TARGETS = make_targets()
    anchors_of = {}
    n_cmd = n_played = n_links = n_settings = 0
    for doc in doc_files():
        blocks, paras, anchors = parse(doc)
        anchors_of[doc] = anchors
        n_links += check_links(doc, paras, anchors_of)
        guide = doc != "doc/DESIGN.md"
        for lang, first, blines, played in blocks:
            where = "%s:%d" % (doc, first)
            if played:
                played_ok(doc, where, played)   # a problem when it is not
            text = "\n".join(blines)
            if lang in ("sh", "bash", "shell", "") and guide:
                if lang == "" and re.search(r"^\s*\w+\s*[:=]\s*[{(\[\"\w]",
                                            text, re.M) and ";" in text:
                    check_config_block(where, text)
                    n_settings += 1
                    continue
                if lang == "" and not re.match(r"^\s*sseq\b", text):
                    continue
                for line, cmdline in logical_lines(blines, first):
                    w = "%s:%d" % (doc, line)
                    if lang == "":      # a synopsis: sseq [-c FILE] CMD ...
                        words = re.sub(r"[\[\]|]", " ",
                                       cmdline.split("#")[0]).split()
                        check_own(w, words[0], words[1:])
                    else:
                        cmds, err = simple_commands(cmdline)
                        if err:
                            problem(w, "cannot parse %r: %s" % (cmdline, err))
                            continue
                        for c in cmds:
                            check_command(w, c)
                    n_cmd += 1
                    how = ("played by " + played) if played else "checked"
                    n_played += bool(played)
                    lines_out.append("%s: %s: %s" % (w, how, cmdline))
            elif lang == "nginx":
                for m in re.finditer(r"include\s+(\S+);", text):
                    rel = tree_file(m.group(1))
                    if rel:
                        check_file(where, rel)
        if not guide:
            continue
        for line, text in paras:
            where = "%s:%d" % (doc, line)
            for m in re.finditer(r"(`+)(.+?)\1", text):
                span = m.group(2).strip()
                rel = tree_file(span)
                if rel and " " not in span:
                    check_file(where, rel)
                    continue
                sm = re.match(r"^([a-z_]+(?:\.[a-z_]+)?)(?:\s*=.*)?$", span)
                if sm and check_setting(where, sm.group(1)):
                    n_settings += 1
                    continue
                words = span.split()
                while words and re.match(r"^\w+=", words[0]):
                    words.pop(0)        # VAR=value ./scripts/demo
                first = words[0] if words else ""
                if not words or (len(words) < 2 and
                                 not first.startswith(("./", "scripts/"))):
                    continue
                if os.path.basename(first) in OWN + ("sseq-spawn",) or \
                        first in ("sudo", "systemctl", "journalctl", "make",
                                  "./configure", "man", "curl") or \
                        first.startswith(("./scripts/", "scripts/")):
                    cmds, err = simple_commands(span)
                    if err:
                        continue
                    for c in cmds:
                        check_command(where, c)
                    n_cmd += 1
                    lines_out.append("%s: checked: %s" % (where, span))
    for l in lines_out:
        print(l)
    for p in problems:
        print("PROBLEM " + p)
    print("check_docs: %d commands (%d in blocks played by a test), %d "
          "links, %d settings and config blocks; %d problems" % (
              n_cmd, n_played, n_links, n_settings, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
