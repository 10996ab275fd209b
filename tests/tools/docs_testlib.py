"""What the README and docs/*.md name, read from their markdown, and the
checks that it exists: tool scripts, their ``--options`` and choices,
repository paths, ``mmakm.*`` names, ``make`` targets, links and their
anchors, ``--cfg-options`` keys shown with a config.

Each ``check_*`` function takes ``(doc, text)`` (the markdown file's path
relative to the repository, its text) and returns problems as
``'<doc>:<line>: <what>'`` strings, so a test can run it on the shipped docs
and on a fabricated page with known drift.

Run as a script (``python docs_testlib.py tools/x.py ...``) it prints, as
JSON, the options of each tool's argument parser (captured when the tool
calls ``parse_args``: every tool checks its arguments before any work) and
the error of each tool that fails before it gets there.
"""
import argparse
import glob
import importlib
import json
import os.path as osp
import re
import runpy
import shlex
import sys
from typing import Dict, Iterator, List, Optional, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

FENCE = re.compile(r'^```[^\n]*\n(.*?)^```', re.S | re.M)
INLINE = re.compile(r'`([^`\n]+)`')
# a script path, not the tail of tests/tools/...
SCRIPT = re.compile(r'(?<![\w/.-])(tools/[\w/.-]+\.(?:py|sh))')
OPTION = re.compile(r'(?<![\w-])(--[A-Za-z][\w-]*)')
REPO_PATH = re.compile(
    r'(?<![\w/.$<{-])((?:configs|tools|tests|mmakm|docs)/[\w/.{},<>*-]*)')
# a config named relative to configs/ (`baselines/r18_apex_<corpus>.py`)
CONFIG_SUBDIR = re.compile(
    r'(?<![\w/.-])((?:_base_|ablations|baselines|casme2_sized|evidence|'
    r'pretrain)/[\w/.{},<>*-]+\.py)')
DOTTED = re.compile(r'(?<![\w.])(mmakm(?:\.\w+)+)')
MAKE = re.compile(r'(?<![\w-])make (\w+)')
LINK = re.compile(r'\]\(([^)\s]+)\)')
HEADING = re.compile(r'^#{1,6}[ \t]+(.+?)[ \t#]*$', re.M)
#: commands of other programs shown in the docs: their options are theirs
EXTERNAL = ('pip', 'pytest', 'torchrun', 'git', 'make', 'srun', 'sbatch')
#: tools that hand the words after their first argument to another program
#: (MMAction2's tools: run, as the docs show them, by test_mmaction2_docs)
FORWARDING = ('tools/misc/mmaction_tool.py',)


def doc_files() -> List[str]:
    """README.md and docs/*.md, relative to the repository."""
    return ['README.md'] + sorted(
        osp.relpath(p, REPO)
        for p in glob.glob(osp.join(REPO, 'docs', '*.md')))


def _without_fences(text: str) -> str:
    """``text`` with fenced blocks blanked (line numbers kept)."""
    return FENCE.sub(lambda m: '\n' * m.group(0).count('\n'), text)


def code_snippets(text: str) -> Iterator[Tuple[int, str]]:
    """(line, code) of every command of a fenced block (``\\`` continuation
    lines joined, ``# comment`` cut) and of every inline code span."""
    for m in FENCE.finditer(text):
        first_line = text.count('\n', 0, m.start(1)) + 1
        buf, start = '', None
        for i, line in enumerate(m.group(1).split('\n')):
            start = first_line + i if start is None else start
            if line.rstrip().endswith('\\'):
                buf += line.rstrip()[:-1] + ' '
                continue
            code = re.split(r'(?:^|\s)#\s', buf + line)[0]
            if code.strip():
                yield start, code
            buf, start = '', None
    prose = _without_fences(text)
    for m in INLINE.finditer(prose):
        yield prose.count('\n', 0, m.start()) + 1, m.group(1)


def tool_commands(text: str) -> Iterator[Tuple[int, str, List[str]]]:
    """(line, script, words) of every tools/ script named in code; the
    words are those written after it, up to the next script, with the
    ``[optional]`` brackets of a synopsis dropped."""
    for line, code in code_snippets(text):
        found = list(SCRIPT.finditer(code))
        for k, m in enumerate(found):
            end = found[k + 1].start() if k + 1 < len(found) else len(code)
            args = code[m.end():end]
            yield line, m.group(1), re.sub(r'[\[\]]', ' ', args).split()


def expand(pattern: str) -> List[str]:
    """Shell brace expansion (``akm_{casme2,samm}.py``)."""
    m = re.search(r'\{([^{}]*)\}', pattern)
    if not m:
        return [pattern]
    return [p for alt in m.group(1).split(',')
            for p in expand(pattern[:m.start()] + alt + pattern[m.end():])]


def _exists(path: str) -> bool:
    """A repository path exists; ``<name>`` / ``*`` placeholders match at
    least one file."""
    pattern = re.sub(r'<[^>]*>', '*', path)
    return bool(glob.glob(osp.join(REPO, pattern)))


def check_paths(doc: str, text: str) -> List[str]:
    """Every configs/, tools/, tests/, mmakm/, docs/ path in code (tool
    scripts included, and configs named relative to configs/) exists."""
    problems = []
    for line, code in code_snippets(text):
        named = [m.group(1) for m in REPO_PATH.finditer(code)]
        named += ['configs/' + m.group(1)
                  for m in CONFIG_SUBDIR.finditer(code)]
        for path in named:
            path = path.rstrip('.,;:')
            for p in expand(path):
                if not _exists(p):
                    problems.append(f'{doc}:{line}: {p} does not exist')
    return problems


def check_python_names(doc: str, text: str) -> List[str]:
    """Every ``mmakm.x.y`` in code is a module or an attribute of one."""
    problems = []
    for line, code in code_snippets(text):
        for name in DOTTED.findall(code):
            parts = name.split('.')
            for k in range(len(parts), 0, -1):
                try:
                    obj = importlib.import_module('.'.join(parts[:k]))
                    break
                except ImportError:
                    continue
            for attr in parts[k:]:
                obj = getattr(obj, attr, None)
                if obj is None:
                    problems.append(f'{doc}:{line}: {name} does not exist')
                    break
    return problems


def cfg_options_commands(text: str) -> Iterator[Tuple[int, str, List[str]]]:
    """(line, config, ``k=v`` tokens) of every command that names a
    config of the repository (no placeholder) and gives ``--cfg-options``;
    tokens holding a shell variable are left out."""
    for line, code in code_snippets(text):
        m = re.search(r'(?<![\w/.-])(configs/[\w/.-]+\.py)\b(.*?)'
                      r'--cfg-options\s+(.*)', code)
        if not m:
            continue
        tokens = []
        for token in shlex.split(m.group(3).replace('[', ' [ ')):
            if token.startswith(('--', '[', ']', '|')):
                break
            if '$' not in token and '=' in token:
                tokens.append(token.rstrip(']'))
        if tokens:
            yield line, m.group(1), tokens


def check_cfg_options_keys(doc: str, text: str) -> List[str]:
    """Every ``--cfg-options`` key shown with a config is one the tools
    accept for it (:func:`mmakm.engine.user_input.check_cfg_options`)."""
    from mmakm.engine.user_input import (CfgOptionsAction, UserInputError,
                                         load_config)
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    problems = []
    for line, config, tokens in cfg_options_commands(text):
        options = parser.parse_args(['--cfg-options'] + tokens).cfg_options
        try:
            load_config(osp.join(REPO, config), options)
        except UserInputError as exc:
            problems.append(f'{doc}:{line}: {config}: {exc}')
    return problems


def make_targets() -> set:
    with open(osp.join(REPO, 'Makefile')) as f:
        return set(re.findall(r'^([\w-]+):', f.read(), re.M))


def check_make_targets(doc: str, text: str) -> List[str]:
    targets = make_targets()
    return [f'{doc}:{line}: make {t}: no such Makefile target'
            for line, code in code_snippets(text)
            for t in MAKE.findall(code) if t not in targets]


def heading_anchor(heading: str) -> str:
    """GitHub's anchor of a heading: markdown marks and links dropped,
    lower case, punctuation removed, spaces as hyphens."""
    heading = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading)
    heading = re.sub(r'[^\w\- ]', '', heading.replace('`', '').lower())
    return heading.replace(' ', '-')


def anchors(text: str) -> set:
    """Anchors of a markdown page's headings (repeats get ``-1``, ...)."""
    out, seen = set(), {}
    for heading in HEADING.findall(_without_fences(text)):
        slug = heading_anchor(heading)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f'{slug}-{n}')
    return out


def check_links(doc: str, text: str) -> List[str]:
    """Every relative link's file exists; every anchor names a heading."""
    problems = []
    prose = _without_fences(text)
    for m in LINK.finditer(prose):
        target = m.group(1)
        if re.match(r'[a-z]+:', target):
            continue
        line = prose.count('\n', 0, m.start()) + 1
        path, _, anchor = target.partition('#')
        full = (osp.normpath(osp.join(REPO, osp.dirname(doc), path))
                if path else osp.join(REPO, doc))
        if not osp.exists(full):
            problems.append(f'{doc}:{line}: link {target}: no such file')
            continue
        if anchor:
            with open(full) as f:
                target_text = text if not path else f.read()
            if anchor not in anchors(target_text):
                problems.append(
                    f'{doc}:{line}: link {target}: no heading with that '
                    f'anchor')
    return problems


def check_options(doc: str, text: str, options: Dict[str, Optional[dict]]
                  ) -> List[str]:
    """Every ``--option`` written after a tools/*.py script is one of its
    parser's, and a value written for an option with choices is one of
    them (``options``: script -> :func:`parser_options`); every other
    ``--option`` in code, outside the commands of other programs, is some
    tool's."""
    problems = []
    known = set().union(*(o for o in options.values() if o))
    for line, script, words in tool_commands(text):
        if not script.endswith('.py') or script not in options:
            continue
        accepted = options[script]
        if script in FORWARDING:
            first = next((i for i, w in enumerate(words)
                          if not w.startswith('-')), len(words))
            words = words[:first]
        for i, word in enumerate(words):
            if not OPTION.fullmatch(word):
                continue
            if accepted is None or word not in accepted:
                problems.append(f'{doc}:{line}: {script} has no option {word}')
                continue
            choices, many = accepted[word]
            if not choices:
                continue
            values = []
            for value in words[i + 1:]:
                if value.startswith('-') or not re.fullmatch(r'[a-z]\w*',
                                                             value):
                    break        # the next option, or a placeholder
                values.append(value)
            problems += [f'{doc}:{line}: {script} {word}: {v!r} is not one of '
                         f'{choices}' for v in values[:None if many else 1]
                         if v not in choices]
    for line, code in code_snippets(text):
        words = code.split()
        if SCRIPT.search(code) or not words or words[0] in EXTERNAL:
            continue
        problems += [f'{doc}:{line}: {o} is no option of any tool'
                     for o in OPTION.findall(code) if o not in known]
    return problems


class _Captured(Exception):
    pass


def parser_options(script: str) -> Optional[dict]:
    """Option string -> ``(choices or None, takes several values)`` of the
    parser ``script`` builds when run as a user runs it (None if it parses
    no arguments before returning)."""
    path = osp.join(REPO, script)
    captured = {}

    def capture(self, args=None, namespace=None):
        captured['parser'] = self
        raise _Captured

    saved = (sys.argv, list(sys.path),
             argparse.ArgumentParser.parse_known_args)
    sys.argv = [path]
    sys.path.insert(0, osp.dirname(path))
    argparse.ArgumentParser.parse_known_args = capture
    try:
        runpy.run_path(path, run_name='__main__')
    except _Captured:
        pass
    finally:
        sys.argv, sys.path[:] = saved[0], saved[1]
        argparse.ArgumentParser.parse_known_args = saved[2]
    parser = captured.get('parser')
    if parser is None:
        return None
    return {option: (list(action.choices) if action.choices else None,
                     action.nargs in ('+', '*'))
            for option, action in parser._option_string_actions.items()}


if __name__ == '__main__':
    options, errors = {}, {}
    for script in sys.argv[1:]:
        try:
            options[script] = parser_options(script)
        except (Exception, SystemExit) as exc:   # e.g. a broken import
            errors[script] = f'{type(exc).__name__}: {exc}'
    print(json.dumps(dict(options=options, errors=errors)))
