"""A checkpoint or config that does not fit is refused with the reason,
never evaluated: tools/test.py, tools/demo.py, mmakm.apis.init_model."""
import contextlib
import glob
import io
import os.path as osp

import pytest
import torch

from mmakm.engine.checkpoint import (CheckpointError, load_weights,
                                     read_checkpoint)
from tools_testlib import REPO, SYNTH_CFG, load_tool, tiny_options

SUBJECTS = ['sub01', 'sub02']


_tool = load_tool


def _options(corpus_root, **extra):
    opts = dict(o.split('=', 1) for o in tiny_options(corpus_root, SUBJECTS))
    opts.update(extra)
    return [f'{k}={v}' for k, v in opts.items()]


def _options_dict(corpus_root):
    from mmengine.config import DictAction
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument('--o', nargs='+', action=DictAction)
    return p.parse_args(['--o', *_options(corpus_root)]).o


@pytest.fixture(scope='module')
def model_ckpt(corpus_root, tmp_path_factory):
    """An (untrained) checkpoint that fits the tiny model exactly."""
    from mmakm.apis import init_model
    model, _ = init_model(SYNTH_CFG, None,
                          cfg_options=_options_dict(corpus_root))
    path = str(tmp_path_factory.mktemp('ckpt') / 'fits.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=[
                        'positive', 'negative', 'surprise', 'others']))),
               path)
    return path, model.state_dict()


def _variant(tmp_path, state_dict, name, edit):
    sd = dict(state_dict)
    edit(sd)
    path = str(tmp_path / f'{name}.pth')
    torch.save(dict(state_dict=sd, meta={}), path)
    return path


def _rename(sd):
    for k in [k for k in sd if k.startswith('neck.')]:
        sd['old_' + k] = sd.pop(k)


def _wider_head(sd):
    w = sd['cls_head.fc_cls.weight']
    sd['cls_head.fc_cls.weight'] = torch.zeros(5, w.shape[1])
    sd['cls_head.fc_cls.bias'] = torch.zeros(5)


# ----------------------------------------------------------------- unit
def test_empty_and_truncated_checkpoints_are_named(tmp_path, model_ckpt):
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    with pytest.raises(CheckpointError, match=r'empty\.pth: empty checkpoint'):
        read_checkpoint(str(empty))
    data = open(model_ckpt[0], 'rb').read()
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError,
                       match=r'cut\.pth: truncated or corrupt checkpoint'):
        read_checkpoint(str(cut))
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        read_checkpoint(str(tmp_path / 'absent.pth'))


def test_load_weights_strict_lists_keys_partial_loads_what_fits():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    sd = {'module.0.weight': torch.ones(4, 3), '0.bias': torch.ones(4),
          '1.weight': torch.ones(5, 4), 'extra.w': torch.ones(1)}
    with pytest.raises(CheckpointError) as e:
        load_weights(model, dict(state_dict=sd), 'x.pth')
    msg = str(e.value)
    assert 'x.pth does not fit the model' in msg
    assert '1 model key(s) missing from the checkpoint: 1.bias' in msg
    assert '1 unexpected checkpoint key(s) not in the model: extra.w' in msg
    assert ('1 key(s) of another shape: 1.weight (checkpoint (5, 4), model '
            '(2, 4))') in msg
    before = model[1].weight.detach().clone()
    mismatch = load_weights(model, dict(state_dict=sd), 'x.pth', strict=False)
    assert mismatch.missing == ['1.bias'] and mismatch.unexpected == [
        'extra.w']
    assert torch.equal(model[0].weight, torch.ones(4, 3))  # 'module.' strip
    assert torch.equal(model[1].weight, before)  # wrong shape: not loaded


# ----------------------------------------------------------- tools/test.py
def _run_test_tool(config, ckpt, work_dir, options, *extra):
    test = _tool('test')
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as e:
        test.main([config, ckpt, '--work-dir', str(work_dir), *extra,
                   '--cfg-options', *options])
    return str(e.value.code), err.getvalue()


@pytest.mark.parametrize('case', ['renamed', 'wider_head', 'empty'])
def test_test_tool_refuses_checkpoints_that_do_not_fit(
        case, corpus_root, model_ckpt, tmp_path):
    _, sd = model_ckpt
    if case == 'renamed':
        ckpt = _variant(tmp_path, sd, case, _rename)
    elif case == 'wider_head':
        ckpt = _variant(tmp_path, sd, case, _wider_head)
    else:
        ckpt = str(tmp_path / 'empty.pth')
        open(ckpt, 'wb').close()
    msg, _ = _run_test_tool(SYNTH_CFG, ckpt, tmp_path / 'w',
                            _options(corpus_root))
    assert msg.startswith('error: ') and ckpt in msg
    if case == 'renamed':
        assert 'missing from the checkpoint: neck.' in msg
        assert 'not in the model: old_neck.' in msg
    elif case == 'wider_head':
        assert ('cls_head.fc_cls.weight (checkpoint (5, 64), model (4, 64))'
                in msg)
    else:
        assert 'empty checkpoint file' in msg
    assert not osp.exists(tmp_path / 'w' / 'test_metrics.json')


def test_num_classes_that_disagree_with_the_class_setup(
        corpus_root, model_ckpt, tmp_path):
    opts = _options(corpus_root, **{'model.cls_head.num_classes': '5'})
    msg, _ = _run_test_tool(SYNTH_CFG, model_ckpt[0], tmp_path / 'w', opts)
    assert 'model.cls_head.num_classes = 5 does not match the data' in msg
    assert ("test_dataloader.dataset (CASME2Dataset with class_setup "
            "'paper4') gives 4 classes") in msg
    assert 'Set model.cls_head.num_classes=4' in msg
    train = _tool('train')
    with pytest.raises(SystemExit, match='train_dataloader.dataset'):
        train.main([SYNTH_CFG, '--work-dir', str(tmp_path / 't'),
                    '--cfg-options', *opts])


def test_fitting_checkpoint_is_tested_and_its_dump_loads_safely(
        corpus_root, model_ckpt, tmp_path):
    from mmakm.loso.report import load_predictions
    test = _tool('test')
    dump = str(tmp_path / 'preds.pkl')
    test.main([SYNTH_CFG, model_ckpt[0], '--work-dir', str(tmp_path),
               '--dump', dump, '--cfg-options', *_options(corpus_root)])
    assert osp.isfile(tmp_path / 'test_metrics.json')
    preds = load_predictions(dump)
    assert len(preds) == 16 and {p['subject'] for p in preds} == {
        'casme2/sub01', 'casme2/sub02'}
    assert all(p['frame_weights'] is not None for p in preds)


# ----------------------------------------------------------- tools/demo.py
def _demo(argv):
    demo = _tool('demo')
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        rc = demo.main(argv)
    return rc, out.getvalue(), err.getvalue(), demo


def _clip_dir(corpus_root):
    return osp.join(corpus_root, 'CASME2_RAW', 'sub01')


def _first_clip(corpus_root):
    import glob
    import re
    folder = sorted(glob.glob(osp.join(_clip_dir(corpus_root), '*')))[0]
    numbers = sorted(int(re.findall(r'\d+', osp.basename(p))[-1])
                     for p in glob.glob(osp.join(folder, '*.jpg')))
    return folder, numbers


def test_demo_checks_arguments_before_decoding(corpus_root, model_ckpt,
                                               tmp_path, monkeypatch):
    folder, numbers = _first_clip(corpus_root)

    def no_decoding(*a, **k):
        raise AssertionError('the clip was decoded')
    missing = str(tmp_path / 'nope.pth')
    cases = [
        ([folder, SYNTH_CFG, missing], f'checkpoint not found: {missing}'),
        ([folder, str(tmp_path / 'x.py'), model_ckpt[0]],
         'config not found'),
        ([folder, SYNTH_CFG, model_ckpt[0], '--onset', '20', '--offset',
          '30', '--apex', '40'],
         '--apex 40 is outside the clip (--onset 20 .. --offset 30)'),
    ]
    for argv, expected in cases:
        demo = _tool('demo')
        monkeypatch.setattr(demo, 'read_clip', no_decoding)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            assert demo.main(argv) == 2
        assert f'error: {expected}' in err.getvalue()


def test_demo_refuses_a_checkpoint_that_does_not_fit(
        corpus_root, model_ckpt, tmp_path):
    folder, _ = _first_clip(corpus_root)
    ckpt = _variant(tmp_path, model_ckpt[1], 'renamed', _rename)
    rc, out, err, _ = _demo([folder, SYNTH_CFG, ckpt, '--no-face-crop',
                             '--cfg-options', *_options(corpus_root)])
    assert rc == 2 and 'prediction' not in out
    assert 'does not fit the model' in err and 'old_neck.' in err


def test_demo_apex_not_in_clip_and_one_frame_clip(corpus_root, model_ckpt,
                                                  tmp_path):
    folder, numbers = _first_clip(corpus_root)
    opts = ['--no-face-crop', '--cfg-options', *_options(corpus_root)]
    rc, _, err, _ = _demo([folder, SYNTH_CFG, model_ckpt[0], '--apex',
                           str(numbers[-1] + 5), *opts])
    assert rc == 2 and f'--apex {numbers[-1] + 5} is not a frame' in err
    one = numbers[0]
    rc, out, err, _ = _demo([folder, SYNTH_CFG, model_ckpt[0], '--onset',
                             str(one), '--offset', str(one), '--out',
                             str(tmp_path / 'f.png'), *opts])
    assert rc == 0 and 'prediction:' in out
    assert 'warning: the clip has only 1 frame(s)' in err
    assert 'key-frame mining' in err


# ------------------------------------------------------ synthetic corpus
def test_synthetic_corpus_is_generated_only_where_the_run_reads(tmp_path):
    from mmengine.config import Config

    from mmakm.engine import ensure_synthetic_corpus
    default, elsewhere = str(tmp_path / 'default'), str(tmp_path / 'mine')
    cfg = Config.fromfile(SYNTH_CFG)
    cfg.merge_from_dict({
        'synthetic_corpus.root': default,
        'synthetic_corpus.n_subjects': 2, 'synthetic_corpus.size': 32,
        'synthetic_corpus.clips_per_subject': 1, 'synthetic_corpus.video':
        False,
        'train_dataloader.dataset.data_root': elsewhere,
        'test_dataloader.dataset.data_root': elsewhere})
    assert ensure_synthetic_corpus(cfg) is None
    assert not osp.exists(default) and not osp.exists(elsewhere)
    cfg.merge_from_dict({'test_dataloader.dataset.data_root': default})
    assert ensure_synthetic_corpus(cfg) == default
    assert osp.isfile(osp.join(default, 'CASME2-coding-20140508.xlsx'))


def test_runner_loads_partially_only_when_asked(tmp_path, monkeypatch):
    """``load_partial=True`` (fine-tuning) loads what fits and lists the
    rest; otherwise ``load_from``/``--resume`` is strict."""
    from mmengine.logging import MMLogger

    import mmakm.engine.checkpoint as checkpoint
    from mmakm.engine.checkpoint import use_checked_loading
    logged = []
    monkeypatch.setattr(checkpoint, 'print_log',
                        lambda msg, **kw: logged.append(msg))

    class Runner:  # the parts of mmengine's Runner that loading uses
        def __init__(self):
            self.model = torch.nn.Sequential(torch.nn.Linear(2, 3),
                                             torch.nn.Linear(3, 2))
            self.logger = MMLogger.get_current_instance()
            self.hooks = []

        def call_hook(self, name, **kwargs):
            self.hooks.append(name)

    sd = {'0.weight': torch.ones(3, 2), '0.bias': torch.ones(3),
          'head.weight': torch.ones(7, 3)}
    path = str(tmp_path / 'backbone.pth')
    torch.save(dict(state_dict=sd), path)
    strict = Runner()
    use_checked_loading(strict)
    with pytest.raises(CheckpointError, match='missing from the checkpoint: '
                                              '1.weight, 1.bias'):
        strict.load_checkpoint(path)
    partial = Runner()
    use_checked_loading(partial, strict=False)
    partial.load_checkpoint(path)
    assert torch.equal(partial.model[0].weight, torch.ones(3, 2))
    assert partial._has_loaded and partial.hooks == ['after_load_checkpoint']
    assert len(logged) == 1 and logged[0].startswith(f'partial load of '
                                                     f'{path}')
    assert 'missing from the checkpoint: 1.weight, 1.bias' in logged[0]
    assert 'not in the model: head.weight' in logged[0]


# every config of ME datasets (the face-image pretraining configs in
# configs/pretrain/ have none)
@pytest.mark.parametrize('path', sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True)
    if '_base_' not in p and
    not osp.basename(p).startswith(('frameresnet_', 'akm_synthetic_stills'))),
    ids=lambda p: osp.relpath(p, osp.join(REPO, 'configs')))
def test_shipped_configs_have_a_head_for_their_classes(path):
    from mmengine.config import Config

    from mmakm.engine import check_num_classes
    from mmakm.engine.consistency import config_classes
    cfg = Config.fromfile(path)
    classes = config_classes(cfg)  # no corpus needed: names only
    assert classes and all(len(names) >= 2 for _, names in classes.values())
    check_num_classes(cfg, classes)
