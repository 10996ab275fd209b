"""The README and docs/*.md name only what exists: every tools/ script
(and it starts), every ``--option`` of a tool and value of one with
choices, every repository path and config, every ``mmakm.*`` name, ``make``
target, relative link and anchor, every ``--cfg-options`` key shown with a
config; the README's component table lists exactly the registered mmakm
names.

Each check also runs on a fabricated page with one drift of each kind, so a
check that stopped finding anything fails here too."""
import glob
import json
import os.path as osp
import re
import subprocess
import sys

import pytest

import docs_testlib as D
from tools_testlib import REPO, tool_env

DOCS = D.doc_files()
TEXTS = {doc: open(osp.join(REPO, doc)).read() for doc in DOCS}
TEXT_CHECKS = [D.check_paths, D.check_python_names, D.check_make_targets,
               D.check_links, D.check_cfg_options_keys]


@pytest.fixture(scope='module')
def tool_parsers():
    """The options of every tools/*.py script that parses arguments, read
    from the parser each builds when run, and the errors of those that fail
    before that (all in one separate process)."""
    scripts = sorted(
        osp.relpath(p, REPO) for p in
        glob.glob(osp.join(REPO, 'tools', '**', '*.py'), recursive=True)
        if 'ArgumentParser' in open(p).read())
    proc = subprocess.run(
        [sys.executable, osp.join(osp.dirname(__file__), 'docs_testlib.py')]
        + scripts, cwd=REPO, env=tool_env(), capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def tool_options(tool_parsers):
    options = tool_parsers['options']
    assert '--cfg-options' in options['tools/train.py']
    return options


def test_every_tool_starts(tool_parsers):
    """Each tool gets as far as parsing its arguments (a tool whose import
    broke cannot run any command the docs show for it)."""
    assert len(tool_parsers['options']) >= 20
    assert not tool_parsers['errors'], '\n'.join(
        f'{s}: {e}' for s, e in tool_parsers['errors'].items())


def test_docs_are_found():
    assert 'README.md' in DOCS and 'docs/architecture.md' in DOCS
    assert len(DOCS) >= 10
    commands = [c for doc in DOCS for c in D.tool_commands(TEXTS[doc])]
    assert len(commands) > 100
    assert 'tools/train.py' in {s for _, s, _ in commands}


@pytest.mark.parametrize('doc', DOCS)
def test_doc_names_what_exists(doc):
    problems = [p for check in TEXT_CHECKS for p in check(doc, TEXTS[doc])]
    assert not problems, '\n'.join(problems)


@pytest.mark.parametrize('doc', DOCS)
def test_doc_options_are_accepted(doc, tool_options):
    problems = D.check_options(doc, TEXTS[doc], tool_options)
    assert not problems, '\n'.join(problems)


def _registered_mmakm_names():
    import mmaction.registry as registries
    from mmengine.registry import Registry

    import mmakm  # noqa: F401
    import mmakm.engine  # noqa: F401
    names = {}
    for attr in dir(registries):
        registry = getattr(registries, attr)
        if isinstance(registry, Registry):
            for name, obj in registry.module_dict.items():
                if getattr(obj, '__module__', '').startswith('mmakm'):
                    names.setdefault(attr, set()).add(name)
    return names


def readme_components(text):
    """registry -> names of the README's "Components" table."""
    section = text.split('## Components', 1)[1].split('\n## ', 1)[0]
    table = {}
    for row in re.findall(r'^\|([^|\n]+)\|([^|\n]+)\|', section, re.M):
        registry = row[0].strip()
        if registry.isupper():
            table.setdefault(registry, set()).update(
                re.findall(r'`(\w+)`', row[1]))
    return table


def test_readme_component_table_is_the_registries():
    assert readme_components(TEXTS['README.md']) == _registered_mmakm_names()


# ---- each check finds the drift it is for ----------------------------------

DRIFTED = """# Page

## A heading, with `code`

```bash
python tools/train.py configs/akm_casme2.py --seeds 0   # renamed option
python tools/benchmark.py --sections akmnet nosuch --device cuda --quick
python tools/no_such_tool.py configs/akm_nosuch.py
python tools/loso.py configs/akm_{casme2,nosuch}.py --jobs 2
python tools/train.py configs/akm_casme2.py --cfg-options train_cfg.max_epoch=5
```

`tools/demo.py` writes `--out`; `--no-such-flag` is no tool's;
`baselines/r18_nosuch_<corpus>.py`, `mmakm.datasets.no_such_name`,
`make nosuchtarget`; [fine](#a-heading-with-code), [gone](#no-heading),
[file](docs/nosuch.md), [anchor](docs/demo.md#no-such-section).
"""


def test_checks_find_fabricated_drift(tool_options):
    doc = 'README.md'    # links resolve from the repository root
    found = '\n'.join(p for check in TEXT_CHECKS for p in check(doc, DRIFTED))
    found += '\n' + '\n'.join(D.check_options(doc, DRIFTED, tool_options))
    for drift in ['tools/no_such_tool.py does not exist',
                  'README.md:8: configs/akm_nosuch.py does not exist',
                  'README.md:9: configs/akm_nosuch.py does not exist',
                  'tools/train.py has no option --seeds',
                  "tools/benchmark.py --sections: 'nosuch' is not one of",
                  'did you mean train_cfg.max_epochs?',
                  '--no-such-flag is no option of any tool',
                  'configs/baselines/r18_nosuch_<corpus>.py does not exist',
                  'mmakm.datasets.no_such_name does not exist',
                  'make nosuchtarget: no such Makefile target',
                  'link #no-heading: no heading',
                  'link docs/nosuch.md: no such file',
                  'link docs/demo.md#no-such-section: no heading']:
        assert drift in found, f'{drift!r} not found in:\n{found}'
    # what exists is not reported, what does not is reported once
    assert found.count('tools/no_such_tool.py') == 1
    for fine in ['configs/akm_casme2.py does', 'tools/loso.py has no',
                 "'akmnet' is not", "'cuda'",
                 '--jobs', '--out', '#a-heading-with-code', 'tools/demo.py']:
        assert fine not in found, found
    assert found.count('README.md:6:') == 1     # line numbers are the page's


def test_heading_anchors_as_github_makes_them():
    assert D.heading_anchor(
        'Same seed, data workers and `--resume` (tools/train.py)'
    ) == 'same-seed-data-workers-and---resume-toolstrainpy'
    assert D.heading_anchor('Stabilisation × magnification (the 2×2 rows)'
                            ) == 'stabilisation--magnification-the-22-rows'
    assert D.anchors('# A\n## A\n```\n# not a heading\n```\n') == {'a', 'a-1'}
