"""The tools with bad arguments: a config that does not exist, misspelt
``--cfg-options`` keys, an unknown LOSO subject, an output folder that
cannot be written. Each is one clear line (``error: ...``), checked before
any work is done."""
import contextlib
import io
import os.path as osp
import re

import pytest

from mmakm.engine import UserInputError, check_cfg_options, merge_cfg_options
from tools_testlib import (REPO, SYNTH_CFG, load_tool, run_tool,
                           tiny_options)

SUBJECTS = ['sub01', 'sub02']


def call(tool, argv):
    """(exit code, stderr) of ``tools/<tool>.py`` main in this process;
    SystemExit messages count as stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(
            io.StringIO()):
        try:
            code = load_tool(tool).main([str(a) for a in argv])
        except SystemExit as exc:
            code, msg = exc.code, exc.code
            if isinstance(msg, str):
                err.write(msg + '\n')
                code = 1
    return code, err.getvalue()


@pytest.fixture
def not_writable(tmp_path):
    """A folder path that cannot be created (its parent is a file; the
    tests may run as root, where permissions do not stop writes)."""
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    return str(blocker / 'out')


# ----------------------------------------------------------------- config
def test_missing_config_is_one_line_in_every_tool(tmp_path):
    missing = str(tmp_path / 'nope.py')
    for tool, argv in (('train', [missing]), ('test', [missing, 'x.pth']),
                       ('loso', [missing]),
                       ('preprocess', [missing, tmp_path / 'c'])):
        code, err = call(tool, argv)
        assert code != 0, tool
        assert err.strip() == f'error: config not found: {missing}', tool
    code, err = call('train', [tmp_path])
    assert err.strip() == f'error: config is a folder, not a file: {tmp_path}'


def test_missing_config_from_the_command_line_has_no_traceback(tmp_path):
    missing = str(tmp_path / 'nope.py')
    proc = run_tool([osp.join(REPO, 'tools', 'train.py'), missing],
                    check=False, timeout=120)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f'error: config not found: {missing}')


# ------------------------------------------------------------ cfg-options
def _synth_cfg():
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    return Config.fromfile(SYNTH_CFG)


@pytest.mark.parametrize('key, expected', [
    ('train_cfg.max_epoch', "train_cfg has no key 'max_epoch' and "
     "EpochBasedTrainLoop takes no argument 'max_epoch'; did you mean "
     'train_cfg.max_epochs?'),
    ('model.backbone.depthh', "FrameResNet takes no argument 'depthh'; did "
     'you mean model.backbone.depth?'),
    # **kwargs passed on to a base class that does not take it either
    ('model.cls_head.dropout', "PixelBiGRUHead takes no argument 'dropout'"),
    ('train_dataloader.dataset.cache_dirr', 'did you mean '
     'train_dataloader.dataset.cache_dir?'),
    ('train_dataloader.batch_szie', "train_dataloader has no key "
     "'batch_szie'; did you mean train_dataloader.batch_size?"),
    ('defualt_hooks.logger.interval', "the config has no key "
     "'defualt_hooks'; did you mean default_hooks?"),
    ('modle.backbone.depth', 'did you mean model?'),
    ('optim_wrapper.optimizer.lrr', 'did you mean '
     'optim_wrapper.optimizer.lr?'),
    ('param_scheduler.7.eta_min', 'param_scheduler is a list of 1 item(s); '
     "'7' is not an index of it"),
])
def test_misspelt_cfg_options_keys_are_refused(key, expected):
    with pytest.raises(UserInputError) as e:
        check_cfg_options(_synth_cfg(), {key: 1})
    assert str(e.value).startswith(f'--cfg-options {key}: ')
    assert expected in str(e.value)


def test_documented_and_new_cfg_options_keys_are_accepted(corpus_root):
    cfg = _synth_cfg()
    options = dict(o.split('=', 1) for o in tiny_options(corpus_root,
                                                         SUBJECTS))
    options.update({
        # new keys that the built classes take
        'model.train_cfg.micro_batch_frames': 128,
        'model.backbone.pretrained': 'x.pth',
        'train_dataloader.dataset.cache_dir': None,
        'train_dataloader.dataset.on_bad_sample': 'skip',
        'optim_wrapper.type': 'AutocastOptimWrapper',
        'optim_wrapper.dtype': 'bfloat16',
        'model.loss_aux': None,
        # new top-level settings of the tools
        'load_partial': True,
        'preprocess.stabilise': "dict(type='ecc', blur=3)",
    })
    check_cfg_options(cfg, options)
    merge_cfg_options(cfg, options)
    assert cfg.preprocess.stabilise == dict(type='ecc', blur=3)
    assert cfg.optim_wrapper.dtype == 'bfloat16'


def test_dict_values_replace_the_config_value():
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'akm_casme2.py'))
    merge_cfg_options(cfg, {
        'preprocess.stabilise': "dict(type='ecc', iterations=50)",
        'preprocess.magnify': "dict(type='linear', alpha=5.0)"})
    assert cfg.preprocess.stabilise == dict(type='ecc', iterations=50)
    assert cfg.preprocess.magnify == dict(type='linear', alpha=5.0)
    with pytest.raises(UserInputError, match=r'linear is not a literal '
                       r'\(quote strings\)'):
        merge_cfg_options(cfg, {'preprocess.magnify': 'dict(type=linear)'})
    cfg.preprocess.stabilise = None
    with pytest.raises(UserInputError, match=r'stabilise is a dict in the '
                       r'child config .*give the whole value instead: '
                       r'key="dict\(...\)"'):
        merge_cfg_options(cfg, {'preprocess.stabilise.type': 'ecc'})


@pytest.mark.parametrize('key, value, holders', [
    ('data_root', '/elsewhere', ['train_dataloader.dataset.data_root',
                                 'test_dataloader.dataset.data_root']),
    ('cache_dir', '/elsewhere', ['train_dataloader.dataset.cache_dir',
                                 'test_dataloader.dataset.cache_dir']),
    ('max_epochs', 1, ['train_cfg.max_epochs', 'param_scheduler.0.T_max']),
])
def test_config_variables_already_copied_are_refused(key, value, holders):
    """Before: ``data_root=DIR`` was accepted and changed nothing (the
    corpus was still read under data/)."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'akm_casme2.py'))
    with pytest.raises(UserInputError) as e:
        merge_cfg_options(cfg, {key: value})
    msg = str(e.value)
    assert msg.startswith(f'--cfg-options {key}: a variable of the config')
    for holder in holders:
        assert f'{holder}={value}' in msg
    # the keys it names are accepted; runner keys and flags stay settable
    merge_cfg_options(cfg, {h: value for h in holders})
    merge_cfg_options(cfg, {'work_dir': '/w', 'load_partial': True})


def test_copies_inside_other_variables_are_not_offered():
    """The max-beta configs copy their pipeline variables whole into the
    dataloaders: only the dataloaders' keys are named."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'baselines',
                                   'r18_maxbeta_casme2.py'))
    with pytest.raises(UserInputError) as e:
        check_cfg_options(cfg, {'akm_keyframes': 'k.pkl'})
    assert str(e.value).endswith(
        'instead: train_dataloader.dataset.pipeline.0.predictions=k.pkl '
        'test_dataloader.dataset.pipeline.0.predictions=k.pkl')


def test_paths_built_from_a_variable_are_named_with_the_new_value():
    """configs/akm_megc2019.py builds its three source roots from
    ``source_root``; setting it alone changed nothing."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'akm_megc2019.py'))
    with pytest.raises(UserInputError) as e:
        check_cfg_options(cfg, {'source_root': '/d'})
    keys = str(e.value).split('instead: ')[1].split()
    for split in ('train', 'test'):
        for corpus in ('casme2', 'samm', 'smic'):
            assert (f'{split}_dataloader.dataset.{corpus}.data_root='
                    f'/d/{corpus}') in keys
        assert f'{split}_dataloader.dataset.data_root=/d/megc2019' in keys
    assert not [k for k in keys if '.' not in k.split('=')[0]]


def test_preprocess_refuses_data_root_before_any_work(tmp_path):
    out = tmp_path / 'cache'
    code, err = call('preprocess', [
        osp.join(REPO, 'configs', 'akm_casme2.py'), out, '--cfg-options',
        f'data_root={tmp_path}'])
    assert code == 2 and err.strip().startswith(
        'error: --cfg-options data_root: a variable of the config')
    assert f'train_dataloader.dataset.data_root={tmp_path}' in err
    assert not out.exists()


def test_tools_refuse_wrong_keys_before_any_work(corpus_root, tmp_path):
    work = tmp_path / 'w'
    opts = ['--cfg-options', *tiny_options(corpus_root, SUBJECTS),
            'train_cfg.max_epoch=1']
    code, err = call('train', [SYNTH_CFG, '--work-dir', work, *opts])
    assert code == 1 and err.startswith('error: --cfg-options '
                                        'train_cfg.max_epoch:')
    assert not work.exists()  # nothing started
    code, err = call('loso', [SYNTH_CFG, '--work-dir', work, *opts])
    assert code == 2 and 'did you mean train_cfg.max_epochs?' in err
    assert not work.exists()
    code, err = call('preprocess', [SYNTH_CFG, tmp_path / 'c',
                                    '--cfg-options',
                                    'preprocess.face.sise=96'])
    assert code == 2 and err.strip() == (
        "error: preprocess.face: unknown option(s) ['sise']; expected some "
        "of ['detector', 'eye_distance', 'margin', 'min_confidence', "
        "'ref_frames', 'size']")


# -------------------------------------------------------------- LOSO folds
def test_a_synthetic_corpus_of_other_arguments_is_one_line(tmp_path):
    """Before: a FileExistsError traceback from train.py that said to pass
    overwrite=True / --overwrite, which train.py does not have."""
    from mmakm.datasets.synthetic import make_synthetic_casme2
    root = make_synthetic_casme2(str(tmp_path / 'c'), n_subjects=2,
                                 clips_per_subject=2, size=32, max_len=24)
    opts = [f'{k}={root}' for k in ('synthetic_corpus.root',
                                     'train_dataloader.dataset.data_root',
                                     'test_dataloader.dataset.data_root')]
    code, err = call('train', [SYNTH_CFG, '--work-dir', tmp_path / 'w',
                               '--cfg-options', *opts])
    assert code == 1 and 'Traceback' not in err
    assert err.strip() == (
        f'error: synthetic_corpus: {root} was made with n_subjects=2, '
        'clips_per_subject=2, size=32, max_len=24, not n_subjects=8, '
        'clips_per_subject=8, size=96, max_len=140: to read it as it is, '
        'add --cfg-options synthetic_corpus.n_subjects=2 '
        'synthetic_corpus.clips_per_subject=2 synthetic_corpus.size=32 '
        "synthetic_corpus.max_len=24; or point synthetic_corpus.root and "
        "the datasets' data_root to a new folder (the corpus is generated "
        'there)')
    # as the message says
    keys = err.split('add --cfg-options ')[1].split(';')[0].split()
    from mmakm.engine import ensure_synthetic_corpus
    from mmakm.engine.user_input import load_config
    given = dict(o.split('=', 1) for o in opts)
    given.update({k: int(v) for k, v in (o.split('=') for o in keys)})
    assert ensure_synthetic_corpus(load_config(SYNTH_CFG, given)) == root
    # a folder that is not a synthetic corpus is never offered --overwrite
    other = tmp_path / 'real'
    other.mkdir()
    opts = [o.replace(root, str(other)) for o in opts]
    code, err = call('train', [SYNTH_CFG, '--work-dir', tmp_path / 'w',
                               '--cfg-options', *opts])
    assert code == 1 and err.startswith(
        f'error: synthetic_corpus: {other} exists and is not a synthetic '
        'corpus: point synthetic_corpus.root') and 'overwrite' not in err


def test_a_backbone_mixing_frames_over_time_is_one_line(corpus_root,
                                                        tmp_path):
    """Refused by design (README); before, the refusal was a traceback."""
    opts = ['--cfg-options', *[o for o in tiny_options(corpus_root, SUBJECTS)
                               if not o.startswith('model.backbone.')],
            "model.backbone=dict(type='ResNetTSM', depth=18, "
            'pretrained=None, pretrained2d=False)']
    code, err = call('train', [SYNTH_CFG, '--work-dir', tmp_path / 'w',
                               *opts])
    assert code == 1 and 'Traceback' not in err
    assert err.startswith('error: AKMNet needs a per-frame (2D) backbone')
    assert "ResNetTSM mixes frames over time (TemporalShift at" in err


def test_unknown_loso_subject(corpus_root, tmp_path):
    code, err = call('loso', [SYNTH_CFG, '--work-dir', tmp_path / 'l',
                              '--folds', 'sub99', '--cfg-options',
                              *tiny_options(corpus_root, SUBJECTS)])
    assert code == 2
    assert err.strip() == ("error: unknown subject(s) ['sub99']; the protocol "
                           "has ['casme2/sub01', 'casme2/sub02']")


# ------------------------------------------------------------ output dirs
def test_output_folders_that_cannot_be_written(corpus_root, tmp_path,
                                               not_writable):
    opts = ['--cfg-options', *tiny_options(corpus_root, SUBJECTS)]
    reason = f'{not_writable} is not writable: Not a directory'
    code, err = call('train', [SYNTH_CFG, '--work-dir', not_writable, *opts])
    assert code == 1 and err.strip() == f'error: work dir {reason}'
    import torch
    ckpt = tmp_path / 'c.pth'
    torch.save({}, ckpt)  # a checkpoint file (an empty one is refused)
    code, err = call('test', [SYNTH_CFG, ckpt, '--work-dir', not_writable,
                              *opts])
    assert err.strip() == f'error: work dir {reason}'
    code, err = call('test', [SYNTH_CFG, ckpt, '--work-dir', tmp_path / 't',
                              '--dump', osp.join(not_writable, 'p.pkl'),
                              *opts])
    assert err.strip() == f'error: --dump folder {reason}'
    code, err = call('loso', [SYNTH_CFG, '--work-dir', not_writable, *opts])
    assert code == 2 and err.strip() == f'error: work dir {reason}'
    code, err = call('preprocess', [SYNTH_CFG, not_writable, *opts])
    assert code == 2 and err.strip() == f'error: cache folder {reason}'


# ------------------------------------------------- cache of another recipe
def test_train_refuses_a_cache_of_another_recipe(corpus_root, tmp_path):
    cache = str(tmp_path / 'cache')
    opts = [*tiny_options(corpus_root, SUBJECTS),
            f'train_dataloader.dataset.cache_dir={cache}',
            f'test_dataloader.dataset.cache_dir={cache}']
    code, err = call('preprocess', [
        SYNTH_CFG, cache, '--cfg-options', *opts,
        'preprocess=dict(face=None)'])
    assert code == 0, err
    code, err = call('train', [
        SYNTH_CFG, '--work-dir', tmp_path / 'w', '--cfg-options', *opts,
        "preprocess=dict(face=None, magnify=dict(type='linear', alpha=5.0))"])
    assert code == 1
    assert err.startswith(f'error: {cache} holds clips made with another '
                          'recipe:')
    assert 'python tools/preprocess.py CONFIG OUT_DIR' in err
    assert not (tmp_path / 'w' / 'epoch_1.pth').exists()


def test_cfg_options_values_keep_spaces_and_dicts():
    """mmengine's DictAction drops the spaces of ``/data/my corpus`` and
    recurses without end on ``dict(a=1, b=2)``; the tools' action does
    neither and still parses lists and numbers."""
    import argparse

    from mmengine.config import DictAction

    from mmakm.engine import CfgOptionsAction
    argv = ['--o', 'data_root=/data/my corpus/CASME II', 'n=3', 'x=None',
            "s=dict(type='ecc', blur=3)", 'l=[1,2]', 't=(a,b)']
    p = argparse.ArgumentParser()
    p.add_argument('--o', nargs='+', action=CfgOptionsAction)
    opts = p.parse_args(argv).o
    assert opts == {'data_root': '/data/my corpus/CASME II', 'n': 3,
                    'x': None, 's': "dict(type='ecc', blur=3)",
                    'l': [1, 2], 't': ('a', 'b')}
    upstream = argparse.ArgumentParser()
    upstream.add_argument('--o', nargs='+', action=DictAction)
    assert upstream.parse_args(argv[:2]).o['data_root'] == \
        '/data/mycorpus/CASMEII'  # the defect worked around


def test_demo_tools_with_unwritable_outputs(corpus_root, tmp_path,
                                            not_writable):
    """tools/loso_demo.py and tools/demo.py name the folder they cannot
    write before any work (demo: before the clip is decoded)."""
    code, err = call('loso_demo', ['--work-dir', not_writable])
    assert code == 2 and err.strip().endswith(
        f'error: work dir {not_writable} is not writable: Not a directory')
    folder = osp.join(corpus_root, 'CASME2_RAW', 'sub01')
    ckpt = tmp_path / 'c.pth'
    ckpt.write_bytes(b'')
    code, err = call('demo', [folder, SYNTH_CFG, ckpt,
                              '--out', osp.join(not_writable, 'f.png')])
    assert code == 2 and err.strip() == (
        f'error: --out folder {not_writable} is not writable: Not a '
        'directory')


def test_preprocess_refuses_unknown_magnification_options(tmp_path):
    code, err = call('preprocess', [
        SYNTH_CFG, tmp_path / 'c', '--cfg-options',
        "preprocess=dict(face=None, magnify=dict(type='phase', alfa=3))"])
    assert code == 2
    assert err.strip().startswith("error: preprocess.magnify: phase "
                                  "magnification: unknown option(s) "
                                  "['alfa']; expected some of ['alpha',")
    assert not (tmp_path / 'c').exists()


def test_missing_checkpoints_are_one_line(tmp_path):
    missing = str(tmp_path / 'nope.pth')
    code, err = call('test', [SYNTH_CFG, missing, '--work-dir', tmp_path])
    assert code == 1 and err.strip() == f'error: checkpoint not found: '\
        f'{missing}'
    code, err = call('test', [SYNTH_CFG, 'last', '--work-dir', tmp_path])
    assert err.strip() == f'error: no checkpoint found in {tmp_path}'
    code, err = call('train', [SYNTH_CFG, '--resume', missing,
                               '--work-dir', tmp_path / 'w'])
    assert err.strip() == f'error: --resume: checkpoint not found: {missing}'


def test_train_names_a_clip_missing_from_the_cache(corpus_root, tmp_path):
    cache = tmp_path / 'cache'
    opts = [*tiny_options(corpus_root, SUBJECTS),
            f'train_dataloader.dataset.cache_dir={cache}',
            f'test_dataloader.dataset.cache_dir={cache}',
            'preprocess=dict(face=None)']
    code, err = call('preprocess', [SYNTH_CFG, cache, '--cfg-options', *opts])
    assert code == 0, err
    index = sorted(cache.glob('*/sub02/*.json'))[0]
    index.unlink()  # the clip is no longer cached
    code, err = call('train', [
        SYNTH_CFG, '--work-dir', tmp_path / 'w', '--cfg-options', *opts])
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), err
    assert index.stem in lines[0] and 'python tools/preprocess.py' in lines[0]
    assert not (tmp_path / 'w' / 'epoch_1.pth').exists()


@pytest.fixture
def bad_checkpoints(tmp_path):
    """{kind: path} of files that are not usable checkpoints."""
    import torch
    out = {}
    out['text'] = tmp_path / 'notes.pth'
    out['text'].write_text('not a checkpoint\n')
    out['empty'] = tmp_path / 'empty.pth'
    out['empty'].write_bytes(b'')
    buf = io.BytesIO()
    torch.save({'state_dict': {'w': torch.zeros(1000)}}, buf)
    out['cut'] = tmp_path / 'cut.pth'  # an interrupted copy or download
    out['cut'].write_bytes(buf.getvalue()[:2000])
    out['folder'] = tmp_path / 'ckpt_dir'
    out['folder'].mkdir()
    return {k: str(v) for k, v in out.items()}


CHECKPOINT_MESSAGES = dict(
    text=r"notes\.pth: not a checkpoint: it starts with b'not a ch', while "
    r'torch\.save files start as a zip archive',
    empty=r'empty\.pth: empty checkpoint file \(0 bytes\)',
    cut=r'cut\.pth: truncated or corrupt checkpoint, 2000 bytes \(a zip '
    r'archive without its end record',
    folder=r'checkpoint not found: .*ckpt_dir \(a folder; expected a \.pth')


@pytest.mark.parametrize('kind', sorted(CHECKPOINT_MESSAGES))
def test_files_that_are_not_checkpoints_are_named_before_any_work(
        bad_checkpoints, tmp_path, kind):
    """Before: a text file was "refused: the checkpoint holds objects that
    are not weights" (torch's weights-only message), and every case came
    after the runner was built (some 600 lines of set-up log)."""
    path, expected = bad_checkpoints[kind], CHECKPOINT_MESSAGES[kind]
    code, err = call('test', [SYNTH_CFG, path, '--work-dir', tmp_path / 'w'])
    assert code == 1 and re.fullmatch(rf'error: .*{expected}.*\n', err), err
    assert not (tmp_path / 'w').exists()  # nothing built, nothing written
    code, err = call('train', [SYNTH_CFG, '--resume', path,
                               '--work-dir', tmp_path / 'w'])
    if kind == 'folder':  # train checks existence itself
        assert err.startswith('error: --resume: checkpoint not found'), err
    else:
        assert code == 1 and re.fullmatch(rf'error: .*{expected}.*\n',
                                          err), err


def test_convert_official_ckpt_errors_are_one_line(bad_checkpoints,
                                                   tmp_path):
    out = tmp_path / 'out.pth'
    proc = run_tool(['tools/misc/convert_official_ckpt.py',
                     bad_checkpoints['cut'], str(out)], check=False)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(
        f"error: {bad_checkpoints['cut']}: truncated or corrupt")
    assert not out.exists()


def test_keyframe_nuisance_refuses_a_checkpoint_of_another_model(tmp_path):
    """mmengine's load_checkpoint only warned on a checkpoint that does not
    fit, and the analysis ran on random weights (a silent wrong table)."""
    import torch
    from mmakm.datasets.synthetic import make_synthetic_casme2
    corpus = make_synthetic_casme2(str(tmp_path / 'corpus'), seed=0,
                                   n_subjects=1, clips_per_subject=2,
                                   size=32, min_len=4, max_len=6,
                                   video=False)
    other = tmp_path / 'other.pth'
    torch.save({'state_dict': {'encoder.weight': torch.zeros(2)}}, other)
    code, err = call('analysis/keyframe_nuisance', [
        '--config', SYNTH_CFG, '--checkpoint', other, '--corpus', corpus])
    assert code == 2, err
    assert re.search(r'error: .*other\.pth.*1 unexpected checkpoint key\(s\) '
                     r'not in the model: encoder\.weight', err, re.S), err


def test_many_faces_arguments(monkeypatch, not_writable):
    tool = load_tool('analysis/many_faces')
    for argv, expected in ((['--faces', '0'], '--faces 0: expected 1..100'),
                           (['--out', osp.join(not_writable, 'x.json')],
                            f'error: --out folder {not_writable} is not '
                            'writable')):
        monkeypatch.setattr('sys.argv', ['many_faces.py', *argv])
        err = io.StringIO()
        with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as e:
            tool.parse_args()
        assert e.value.code == 2 and expected in err.getvalue(), \
            err.getvalue()


def test_evidence_refuses_a_work_dir_it_cannot_write(not_writable):
    """Before: a UserInputError traceback (from inside run_suite)."""
    code, err = call('evidence', ['--work-dir', not_writable,
                                  '--report-only'])
    assert code == 2
    assert err.strip() == f'error: work dir {not_writable} is not ' \
        'writable: Not a directory', err


def test_dump_fold_keyframes_names_missing_dirs_and_folds(tmp_path):
    """Before: a missing work dir was "no fold config", and --folds names
    that are not folds were dropped silently when another one matched."""
    missing = tmp_path / 'nope'
    code, err = call('misc/dump_fold_keyframes', [missing])
    assert code == 1 and err.strip() == f'error: work dir not found: ' \
        f'{missing} (expected the --work-dir of a tools/loso.py run)'
    (tmp_path / 'fold_configs').mkdir()
    (tmp_path / 'fold_configs' / 'fold_casme2_sub01.py').write_text('')
    code, err = call('misc/dump_fold_keyframes',
                     [tmp_path, '--folds', 'fold_casme2_sub01', 'sub02'])
    assert code == 1 and err.strip() == f'error: --folds sub02: no such ' \
        f'fold in {tmp_path}; its folds: fold_casme2_sub01'


@pytest.mark.parametrize('name, text, expected', [
    ('broken.py', "model = dict(type='AKMNet'\n",
     r"config {}, line 1: syntax error: '\(' was never closed"),
    ('misspelt.py', 'x = undefined_name + 1\n',
     r"config {} cannot be read: NameError: name 'undefined_name' is not "
     'defined'),
    ('child.py', "_base_ = ['no_such_base.py']\n",
     r"config {} cannot be read: FileNotFoundError: .*no_such_base\.py'"),
    ('akm.txt', 'x = 1\n',
     r'config {}: expected a \.py config file \(or \.yml/\.yaml/\.json\)'),
])
def test_configs_that_cannot_be_read_are_one_line(tmp_path, name, text,
                                                  expected):
    """Before: a traceback from inside mmengine; a syntax error named no
    file (``File "<unknown>", line 1``)."""
    cfg = tmp_path / name
    cfg.write_text(text)
    for tool, argv in (('train', [cfg, '--work-dir', tmp_path / 'w']),
                       ('test', [cfg, 'last', '--work-dir', tmp_path / 'w'])):
        code, err = call(tool, argv)
        assert code == 1 and re.fullmatch(
            'error: ' + expected.format(re.escape(str(cfg))) + r'\n',
            err), err
