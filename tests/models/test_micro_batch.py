"""Micro-batched train step (``model.train_cfg.micro_batch_frames``).

Every comparison is in float64 with dropout 0. With BatchNorm in eval mode
(running statistics) the micro-batched step must give the whole-batch
step's gradients; in train mode with one clip per micro-batch it must give
the gradients of the authors' training (one clip per forward, loss / B,
gradients accumulated) — BN normalising over each clip on its own.
"""
import copy
import os.path as osp

import pytest
import torch

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmakm.models.official import convert_official_state_dict
from mmakm.models.recognizers.micro_batch import (clip_loss_weights,
                                                  plan_micro_batches)
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from models_testlib import (make_batch, make_clips, make_pair, rel_err,
                            run_reference, tiny_akmnet_cfg)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LENGTHS = (5, 9, 16, 7, 12)  # ΣT 49; budget 20 → groups (5, 9), (16), (7, 12)


def build_pair(micro_batch_frames, cls_loss=None, seed=0):
    """A whole-batch AKMNet and a micro-batched one with the same weights."""
    cfg = tiny_akmnet_cfg()
    cfg['cls_head']['dropout_ratio'] = 0.
    if cls_loss is not None:
        cfg['cls_head']['loss_cls'] = cls_loss
    torch.manual_seed(seed)
    whole = MODELS.build(cfg).double()
    cfg['train_cfg'] = dict(micro_batch_frames=micro_batch_frames)
    micro = MODELS.build(cfg).double()
    micro.load_state_dict(whole.state_dict())
    for model in (whole, micro):  # mmaction keeps it float32 (not a buffer)
        loss = model.cls_head.loss_cls
        if getattr(loss, 'class_weight', None) is not None:
            loss.class_weight = loss.class_weight.double()
    return whole, micro


def float32_micro_pair():
    """Two float32 micro-batched (20 frames) AKMNets, same weights, BN
    eval (for the mixed-precision wrappers)."""
    return [bn_eval(build_pair(20)[1].float()) for _ in range(2)]


def bn_eval(model):
    """Train mode with BatchNorm on its running statistics (exact)."""
    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()
    return model


def sgd(model, **kwargs):
    return build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1), **kwargs))


class Recorder:
    """Gradients at each optimiser step, and the backbone's forwards."""

    def __init__(self, model, optim_wrapper):
        self.grads, self.forwards = [], []
        step = optim_wrapper.step

        def recording_step(**kwargs):
            self.grads.append({k: p.grad.clone()
                               for k, p in model.named_parameters()
                               if p.grad is not None})
            step(**kwargs)
        optim_wrapper.step = recording_step
        model.backbone.register_forward_hook(
            lambda mod, args, out: self.forwards.append(
                (args[0].shape[0], out.dtype)))


def run_step(model, optim_wrapper, clips, samples):
    data = dict(inputs=[c.clone() for c in clips],
                data_samples=copy.deepcopy(samples))
    return model.train_step(data, optim_wrapper)


def assert_same_grads(got, want, rtol):
    assert set(got) == set(want)
    for k, g in want.items():
        assert g.abs().sum() > 0, k
        assert rel_err(got[k], g) < rtol, k


def test_plan_groups_whole_consecutive_clips():
    assert plan_micro_batches(LENGTHS, 20) == [(0, 2), (2, 3), (3, 5)]
    assert plan_micro_batches(LENGTHS, 1) == [(i, i + 1) for i in range(5)]
    assert plan_micro_batches(LENGTHS, 49) == [(0, 5)]
    assert plan_micro_batches(LENGTHS, 15) == [(0, 2), (2, 3), (3, 4),
                                               (4, 5)]
    assert plan_micro_batches([3, 30, 2, 2], 10) == [(0, 1), (1, 2), (2, 4)]
    with pytest.raises(ValueError, match='max_frames'):
        plan_micro_batches(LENGTHS, 0)


@pytest.mark.parametrize('cls_loss', [
    None, dict(type='CrossEntropyLoss', class_weight=[1., 2.5, .5, 4.])])
def test_bn_eval_micro_batches_give_the_whole_batch_gradients(cls_loss):
    """(a) groups of 2, 1 and 2 clips; every loss term weighted by its
    share of the batch (class-weighted mean for loss_cls)."""
    whole, micro = build_pair(20, cls_loss)
    clips, samples = make_batch(LENGTHS, labels=[0, 1, 3, 1, 2])
    results = []
    for model in (bn_eval(whole), bn_eval(micro)):
        wrapper = sgd(model)
        rec = Recorder(model, wrapper)
        log_vars = run_step(model, wrapper, clips, samples)
        results.append((rec, log_vars, model))
    (w_rec, w_log, _), (m_rec, m_log, _) = results
    assert [n for n, _ in m_rec.forwards] == [14, 16, 19]  # no padding
    assert [n for n, _ in w_rec.forwards] == [49]
    assert len(m_rec.grads) == len(w_rec.grads) == 1  # one SGD step
    assert_same_grads(m_rec.grads[0], w_rec.grads[0], 1e-10)
    # the batch-level log values, not the last group's
    assert set(m_log) == set(w_log)
    for k in w_log:
        assert float(m_log[k].detach()) == pytest.approx(
            float(w_log[k].detach()), rel=1e-10,
                                                abs=1e-12), k
    # the step applied the same update
    for (k, p), q in zip(whole.named_parameters(), micro.parameters()):
        assert rel_err(q.detach(), p.detach()) < 1e-12, k


def test_clip_loss_weights_follow_the_cross_entropy_reduction():
    samples = [ActionDataSample().set_gt_label(y) for y in (0, 3, 3)]
    _, micro = build_pair(1, dict(type='CrossEntropyLoss',
                                  class_weight=[1., 2., 3., 4.]))
    assert clip_loss_weights(micro.cls_head, samples).tolist() == [1, 4, 4]
    micro.cls_head.label_smooth_eps = 0.2  # y = 0.8 one-hot + 0.05
    assert clip_loss_weights(micro.cls_head, samples).tolist() == \
        pytest.approx([0.8 + 0.5, 3.2 + 0.5, 3.2 + 0.5])
    _, plain = build_pair(1)
    assert clip_loss_weights(plain.cls_head, samples).tolist() == [1, 1, 1]


def test_one_clip_per_micro_batch_is_the_authors_training():
    """(b) train-mode BN over each clip, as the authors' code trains: the
    gradients and BN running statistics of their one-clip-at-a-time
    accumulated step (the conformance test's reference and weights)."""
    ref, akm = make_pair(train_cfg=dict(micro_batch_frames=1))
    ref.train()
    akm.train()
    clips = make_clips((5, 9, 16))
    labels = [1, 2, 0]
    outs, _, r_grads = run_reference(ref, clips, labels)
    for o in outs:  # both L_MMM means defined, L_GS past its kink
        assert 2 <= int(o.selection.sum()) < o.selection.numel()
    wrapper = sgd(akm)
    rec = Recorder(akm, wrapper)
    samples = [ActionDataSample().set_gt_label(y) for y in labels]
    run_step(akm, wrapper, clips, samples)
    assert [n for n, _ in rec.forwards] == [5, 9, 16]
    assert_same_grads(rec.grads[0], convert_official_state_dict(r_grads),
                      1e-9)
    m_state = akm.state_dict()
    stats = [k for k in convert_official_state_dict(ref.state_dict()).items()
             if k[0].endswith(('running_mean', 'running_var'))]
    assert stats
    for k, v in stats:
        assert rel_err(m_state[k], v) < 1e-9, k


def test_whole_batch_train_mode_bn_differs():
    """Why (b) needs micro-batches: the packed step's BN normalises over
    all clips, so its gradients are not the authors'."""
    ref, akm = make_pair()
    ref.train()
    akm.train()
    clips = make_clips((5, 9, 16))
    _, _, r_grads = run_reference(ref, clips, [1, 2, 0])
    wrapper = sgd(akm)
    rec = Recorder(akm, wrapper)
    samples = [ActionDataSample().set_gt_label(y) for y in (1, 2, 0)]
    run_step(akm, wrapper, clips, samples)
    want = convert_official_state_dict(r_grads)
    key = 'backbone.conv1.weight'
    assert rel_err(rec.grads[0][key], want[key]) > 1e-6


def test_accumulative_counts_count_train_steps_not_micro_batches():
    """(c) mmengine's OptimWrapper(accumulative_counts=2): two micro-batched
    train steps = two whole-batch ones (one SGD step after the second)."""
    whole, micro = build_pair(16)
    batches = [make_batch(LENGTHS[:3], labels=[0, 1, 2]),
               make_batch(LENGTHS[3:], labels=[3, 1])]
    recs = []
    for model in (bn_eval(whole), bn_eval(micro)):
        wrapper = sgd(model, accumulative_counts=2)
        rec = Recorder(model, wrapper)
        before = [p.detach().clone() for p in model.parameters()]
        run_step(model, wrapper, *batches[0])
        assert not rec.grads  # accumulating
        assert all(torch.equal(p, q) for p, q in zip(model.parameters(),
                                                     before))
        run_step(model, wrapper, *batches[1])
        assert len(rec.grads) == 1 and wrapper._inner_count == 2
        assert all(p.grad is None or not p.grad.any()
                   for p in model.parameters())  # zeroed after the step
        recs.append(rec)
    assert len(recs[1].forwards) == 4  # (5, 9) (16) | (7) (12)
    assert_same_grads(recs[1].grads[0], recs[0].grads[0], 1e-10)
    for p, q in zip(whole.parameters(), micro.parameters()):
        assert rel_err(q.detach(), p.detach()) < 1e-12


def test_bf16_autocast_wrapper_runs_every_micro_batch_under_autocast():
    """(c) AutocastOptimWrapper (bf16 on CPU): each group's forward is
    autocast, one step, gradients close to the float32 micro-batched step."""
    fp32, bf16 = float32_micro_pair()
    clips, samples = make_batch(LENGTHS)
    recs, logs = [], []
    for model, wrapper_type in ((fp32, 'OptimWrapper'),
                                (bf16, 'AutocastOptimWrapper')):
        wrapper = build_optim_wrapper(model, dict(
            type=wrapper_type, optimizer=dict(type='SGD', lr=0.1)))
        recs.append(Recorder(model, wrapper))
        logs.append(run_step(model, wrapper, clips, samples))
    assert [d for _, d in recs[1].forwards] == [torch.bfloat16] * 3
    assert [d for _, d in recs[0].forwards] == [torch.float32] * 3
    assert len(recs[1].grads) == 1
    assert torch.isfinite(logs[1]['loss'])
    assert float(logs[1]['loss']) == pytest.approx(float(logs[0]['loss']),
                                                   rel=0.05)
    for k, g in recs[0].grads[0].items():
        assert recs[1].grads[0][k].dtype == torch.float32
    # bf16 rounding (and key frames it flips) moves the gradient, a wrong
    # group weighting would scale it (×3 if the groups were summed)
    want = torch.cat([g.flatten() for g in recs[0].grads[0].values()])
    got = torch.cat([recs[1].grads[0][k].flatten() for k in recs[0].grads[0]])
    assert torch.cosine_similarity(got, want, 0) > 0.9
    assert 0.8 < float(got.norm() / want.norm()) < 1.25


def test_fp16_loss_scaling_is_undone_before_the_step():
    """(c) float16 + GradScaler: every group's loss is scaled, the step
    sees unscaled gradients (the update matches the float32 one)."""
    fp32, fp16 = float32_micro_pair()
    clips, samples = make_batch(LENGTHS)
    start = [p.detach().clone() for p in fp32.parameters()]
    wrappers = [build_optim_wrapper(fp32, dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))),
        build_optim_wrapper(fp16, dict(
            type='AutocastOptimWrapper', dtype='float16', loss_scale=1024.,
            optimizer=dict(type='SGD', lr=0.1)))]
    for model, wrapper in zip((fp32, fp16), wrappers):
        run_step(model, wrapper, clips, samples)
    assert wrappers[1].loss_scaler.get_scale() == 1024.
    d32 = torch.cat([(p.detach() - s).flatten()
                     for p, s in zip(fp32.parameters(), start)])
    d16 = torch.cat([(p.detach() - s).flatten()
                     for p, s in zip(fp16.parameters(), start)])
    assert d32.norm() > 0
    assert rel_err(d16, d32) < 0.1  # 1024× too large if left scaled


@pytest.mark.parametrize('value', [-1, 2.5, True, '8', [8]])
def test_bad_micro_batch_frames_are_refused(value):
    cfg = tiny_akmnet_cfg()
    cfg['train_cfg'] = dict(micro_batch_frames=value)
    with pytest.raises(ValueError, match=r'micro_batch_frames must be an '
                       r'int >= 0.*got ' + repr(value).replace('[', r'\[')
                       .replace(']', r'\]')):
        MODELS.build(cfg)


def test_off_values_keep_the_whole_batch_step():
    for value in (0, None):
        cfg = tiny_akmnet_cfg()
        cfg['train_cfg'] = dict(micro_batch_frames=value)
        assert MODELS.build(cfg).micro_batch_frames == 0


def test_unknown_train_cfg_key_is_refused():
    cfg = tiny_akmnet_cfg()
    cfg['train_cfg'] = dict(micro_batch_frame=8)
    with pytest.raises(ValueError, match=r"unknown keys \['micro_batch_"
                       r"frame'\].*micro_batch_frames"):
        MODELS.build(cfg)


def test_a_loss_of_unknown_batch_reduction_is_refused():
    cfg = tiny_akmnet_cfg()
    cfg['cls_head']['loss_cls'] = dict(type='NLLLoss')
    cfg['train_cfg'] = dict(micro_batch_frames=8)
    with pytest.raises(ValueError, match='NLLLoss.*micro_batch_frames=0'):
        MODELS.build(cfg)


def test_training_loss_outside_train_step_is_refused():
    """A model wrapper that computes the loss itself (DDP's train_step)
    would silently drop the micro-batching."""
    _, micro = build_pair(8)
    clips, samples = make_batch((4, 6))
    data = micro.data_preprocessor(dict(inputs=clips, data_samples=samples),
                                   True)
    micro.train()
    with pytest.raises(RuntimeError, match='micro_batch_frames=8.*'
                       'MMDistributedDataParallel'):
        micro(data['inputs'], data['data_samples'], mode='loss')
    micro.eval()  # evaluation losses stay available
    assert 'loss_cls' in micro(data['inputs'], data['data_samples'],
                               mode='loss')


def test_micro_batched_step_with_plain_optim_wrapper_instance():
    """Any OptimWrapper instance works (not only registry-built ones), and
    equal-length (N, T, C, H, W) batches are split by clips."""
    whole, micro = build_pair(10)
    x = torch.randn(3, 6, 3, 64, 64, dtype=torch.float64)
    samples = [ActionDataSample().set_gt_label(y) for y in (0, 1, 2)]
    grads = []
    for model in (bn_eval(whole), bn_eval(micro)):
        wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.))
        rec = Recorder(model, wrapper)
        model.train_step(dict(inputs=x, data_samples=copy.deepcopy(samples)),
                         wrapper)
        grads.append(rec)
    assert [n for n, _ in grads[1].forwards] == [6, 6, 6]
    assert_same_grads(grads[1].grads[0], grads[0].grads[0], 1e-10)


def test_clip_bn_evidence_config_is_the_synthetic_recipe_with_clip_bn():
    configs = osp.join(REPO, 'configs')
    base = Config.fromfile(osp.join(configs, 'akm_synthetic.py'))
    row = Config.fromfile(osp.join(configs, 'evidence',
                                   'akm_clipbn_synthetic.py'))
    assert row.model.pop('train_cfg') == dict(micro_batch_frames=1)
    assert row.model == base.model
    assert row.train_dataloader == base.train_dataloader
    assert row.optim_wrapper == base.optim_wrapper
    row.model.train_cfg = dict(micro_batch_frames=1)
    assert MODELS.build(row.model).micro_batch_frames == 1
