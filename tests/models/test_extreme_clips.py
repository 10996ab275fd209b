"""AKMNet on degenerate and extreme clips, under float32 and autocast.

Every selection mode, gradient rule and threshold, with and without the
mining losses and micro-batches, on clips of 1 and 2 frames, of identical
frames, of constant-zero frames, and on batches mixing 1 and 300 frames:
finite losses, gradients and scores, at least one key frame per clip, every
clip's prediction in input order (docs/robustness.md, "Degenerate and
extreme clips").
"""
import pytest
import torch
from mmengine.optim import build_optim_wrapper

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmakm.models import KeyFrameMining
from mmakm.models.backbones.frame_resnet import CPU_INFER_CHUNK
from mmakm.models.losses import GSMMMLoss

from models_testlib import assert_same_prediction, tiny_akmnet_cfg

#: (selection, grad_rule, threshold, mining losses)
MODES = [('mining', 'paper', '>', True), ('mining', 'paper', '>=', True),
         ('mining', 'official', '>', True),
         ('mining', 'official', '>=', False),
         ('soft', 'paper', '>', False), ('random', 'paper', '>', False),
         ('random', 'paper', '>=', False), ('all', 'paper', '>', False)]


def build(selection='mining', grad_rule='paper', threshold='>',
          loss_aux=True, micro_batch_frames=0, size=64):
    cfg = tiny_akmnet_cfg(selection=selection, grad_rule=grad_rule,
                          threshold=threshold)
    cfg['cls_head']['spatial_size'] = -(-size // 32)
    cfg['train_cfg'] = dict(micro_batch_frames=micro_batch_frames)
    if not loss_aux:
        cfg['loss_aux'] = None
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def wrapper_of(model, **kwargs):
    kwargs.setdefault('type', 'OptimWrapper')
    return build_optim_wrapper(
        model, dict(optimizer=dict(type='SGD', lr=0.01), **kwargs))


def degenerate_clips(size=64):
    """1 frame, 2 frames, 7 identical frames, 6 constant-zero frames."""
    g = torch.Generator().manual_seed(0)

    def noise(t):
        return torch.randint(0, 256, (t, 3, size, size), generator=g,
                             dtype=torch.uint8)

    return [noise(1), noise(2), noise(1).repeat(7, 1, 1, 1),
            torch.zeros(6, 3, size, size, dtype=torch.uint8)]


def samples_for(clips):
    return [ActionDataSample().set_gt_label(i % 4) for i in range(len(clips))]


def predict(model, clips):
    model.eval()
    with torch.no_grad():
        return model.val_step(dict(inputs=clips,
                                   data_samples=samples_for(clips)))


def assert_predictions_fit(preds, clips):
    """One finite prediction per clip, in input order, ≥ 1 key frame."""
    assert len(preds) == len(clips)
    for pred, clip in zip(preds, clips):
        t = clip.shape[0]
        assert torch.isfinite(pred.pred_score).all()
        assert pred.frame_weights.shape == (t, )  # this clip's frames
        assert torch.isfinite(pred.frame_weights).all()
        keys = pred.key_frames
        assert 1 <= len(keys) <= t
        assert keys.min() >= 0 and keys.max() < t
        assert torch.all(keys[1:] > keys[:-1])


@pytest.mark.parametrize('micro_batch_frames', [0, 1])
@pytest.mark.parametrize('selection,grad_rule,threshold,loss_aux', MODES)
def test_degenerate_clips_train_and_predict(selection, grad_rule, threshold,
                                            loss_aux, micro_batch_frames):
    torch.manual_seed(0)
    model = build(selection, grad_rule, threshold, loss_aux,
                  micro_batch_frames)
    clips = degenerate_clips()
    model.train()
    log = model.train_step(dict(inputs=clips, data_samples=samples_for(clips)),
                           wrapper_of(model))
    assert all(torch.isfinite(v) for v in log.values()), log
    for name, p in model.named_parameters():
        assert torch.isfinite(p).all(), name
        if p.grad is not None:
            assert torch.isfinite(p.grad).all(), name
    preds = predict(model, clips)
    assert_predictions_fit(preds, clips)
    assert preds[0].key_frames.tolist() == [0]  # T = 1
    # identical frames: one β, up to the convolutions' rounding
    beta = preds[2].frame_weights
    assert float(beta.max() - beta.min()) < 1e-5


def test_one_clip_of_one_frame_alone():
    """A batch of one 1-frame clip: no unselected frame, L_GS = L_MMM = 0."""
    model = build()
    clip = degenerate_clips()[:1]
    data = model.data_preprocessor(dict(inputs=clip,
                                        data_samples=samples_for(clip)), True)
    losses = model(**data, mode='loss')
    assert float(losses['loss_gs'].detach()) == 0
    assert float(losses['loss_mmm'].detach()) == 0
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert_predictions_fit(predict(model, clip), clip)


def test_mixed_1_and_300_frames_map_to_their_clips():
    """Batched evaluation gives each clip what it gets alone: β and key
    frames of the right clip, at the right frame numbers."""
    g = torch.Generator().manual_seed(1)
    clips = [torch.randint(0, 256, (t, 3, 64, 64), generator=g,
                           dtype=torch.uint8) for t in (3, 1, 300, 2)]
    model = build(micro_batch_frames=50)
    log = model.train_step(dict(inputs=clips, data_samples=samples_for(clips)),
                           wrapper_of(model))
    assert all(torch.isfinite(v) for v in log.values())
    batched = predict(model, clips)
    assert_predictions_fit(batched, clips)
    for clip, got in zip(clips, batched):
        assert_same_prediction(got, predict(model, [clip])[0])


def test_long_clip_eval_runs_the_backbone_in_bounded_chunks():
    """T = 1500 in eval: the backbone never holds more than one chunk of
    frames' activations (memory bounded whatever T is)."""
    model = build(size=32).eval()
    seen = []
    inner = model.backbone._forward
    model.backbone._forward = lambda x: seen.append(x.shape[0]) or inner(x)
    clip = [torch.randint(0, 256, (1500, 3, 32, 32), dtype=torch.uint8)]
    preds = predict(model, clip)
    assert max(seen) == CPU_INFER_CHUNK and sum(seen) == 1500
    assert_predictions_fit(preds, clip)


def test_frame_sizes_not_divisible_by_32_and_gray_frames():
    """72 px frames give 3×3 features: a head built for them runs; gray
    frames run through a gray backbone or are replicated to RGB."""
    clips = [torch.randint(0, 256, (4, 3, 72, 72), dtype=torch.uint8)]
    assert_predictions_fit(predict(build(size=72), clips), clips)
    gray = [torch.randint(0, 256, (4, 1, 64, 64), dtype=torch.uint8)]
    cfg = tiny_akmnet_cfg()
    cfg['backbone']['in_channels'] = 1
    cfg['data_preprocessor'].update(mean=[128.], std=[64.])
    assert_predictions_fit(predict(MODELS.build(cfg), gray), gray)
    cfg = tiny_akmnet_cfg()
    cfg['data_preprocessor']['channels'] = 3
    cfg['data_preprocessor'].update(mean=[128.], std=[64.])
    assert_predictions_fit(predict(MODELS.build(cfg), gray), gray)


def test_frames_the_model_was_not_built_for_say_what_to_change():
    clips = [torch.randint(0, 256, (4, 3, 96, 96), dtype=torch.uint8)]
    with pytest.raises(ValueError, match=r'cls_head\.spatial_size=\(3, 3\)'):
        predict(build(size=64), clips)
    cfg = tiny_akmnet_cfg()
    cfg['data_preprocessor'].update(mean=[128.], std=[64.])
    gray = [torch.randint(0, 256, (4, 1, 64, 64), dtype=torch.uint8)]
    with pytest.raises(ValueError, match=r'backbone\.in_channels=1.*'
                       r'channels=3'):
        predict(MODELS.build(cfg), gray)


# --------------------------------------------------------------- autocast
def near_equal_features(t=300, seed=0):
    """Features sharing one component: the β of the clip lie within
    ~1e-3 of each other, as a trained backbone's do."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(1, 16, 2, 2, generator=g) * 2
    return (base + 0.05 * torch.randn(t, 16, 2, 2, generator=g)).relu()


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_mining_under_autocast_selects_what_float32_selects(dtype):
    """α, β and the threshold in float32 under autocast (in bf16 the mean
    threshold kept all 300 frames; half of them pass in float32)."""
    neck = KeyFrameMining(in_channels=16)
    x = near_equal_features().to(dtype)
    with torch.autocast('cpu', dtype=dtype):
        out = neck(x, [300])
    ref = neck(x.float(), [300])
    assert out.beta.dtype == torch.float32
    assert out.features.dtype == dtype  # the backbone's dtype goes on
    assert 100 < int(ref.key_lengths) < 200
    assert torch.equal(out.selection > 0.5, ref.selection > 0.5)
    torch.testing.assert_close(out.beta, ref.beta)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_features_all_zero_after_relu_stay_finite_under_autocast(dtype):
    """β = cos(0, 0): 0 with the eps in float32 (float16 flushed the eps
    of 1e-8 to 0: NaN β, loss and gradients)."""
    neck = KeyFrameMining(in_channels=16)
    x = torch.zeros(5, 16, 2, 2, dtype=dtype, requires_grad=True)
    with torch.autocast('cpu', dtype=dtype):
        out = neck(x, [5])
        losses = GSMMMLoss()(out.beta, out.selection, [5])
    assert torch.equal(out.beta, torch.zeros(5))
    total = out.features.float().sum() + sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert torch.isfinite(x.grad).all()
    assert torch.isfinite(neck.attention.weight.grad).all()


@pytest.mark.parametrize('dtype', ['float32', 'bfloat16', 'float16'])
def test_train_step_on_degenerate_clips_in_every_precision(dtype):
    """float32, and AutocastOptimWrapper (float16: with GradScaler), on the
    degenerate batch, once more with every backbone feature zero: finite
    logs, a step taken (float16's scaler found no inf/NaN gradient)."""
    amp = dict() if dtype == 'float32' else dict(
        type='AutocastOptimWrapper', dtype=dtype)
    for zero_features in (False, True):
        torch.manual_seed(0)
        model = build(micro_batch_frames=8)
        if zero_features:
            model.backbone.register_forward_hook(
                lambda m, i, o: torch.zeros_like(o))
        wrapper = wrapper_of(model, **amp)
        before = model.cls_head.fc_cls.weight.detach().clone()
        clips = degenerate_clips()
        log = model.train_step(
            dict(inputs=clips, data_samples=samples_for(clips)), wrapper)
        assert all(torch.isfinite(v) for v in log.values()), log
        assert not torch.equal(before, model.cls_head.fc_cls.weight)
        if getattr(wrapper, 'loss_scaler', None) is not None:
            assert wrapper.loss_scaler.get_scale() == 2.**16  # not backed off
        with torch.autocast('cpu', dtype=getattr(torch, dtype),
                            enabled=dtype != 'float32'):
            assert_predictions_fit(predict(model, clips), clips)


# ------------------------------------------- random key frames: seeds
def random_model():
    torch.manual_seed(0)
    return build('random', loss_aux=False)


def train_draw(model, clips):
    """The frames the training forward of ``clips`` keeps ``(ΣT,)``."""
    model.train()
    data = model.data_preprocessor(
        dict(inputs=clips, data_samples=samples_for(clips)), True)
    frames, lengths = model._split_inputs(data['inputs'],
                                          data['data_samples'])
    with torch.no_grad():
        return model.neck(model.backbone(frames), lengths).selection


def eval_keys(model, clips):
    return [p.key_frames.tolist() for p in predict(model, clips)]


def test_random_evaluation_does_not_depend_on_what_ran_before():
    """Same weights and seed, same clips: the same random key frames, in
    the training process after training or in a fresh model; and an
    evaluation does not move the training draws."""
    clips = degenerate_clips()[:2] + [
        torch.randint(0, 256, (t, 3, 64, 64), dtype=torch.uint8)
        for t in (9, 14)]
    trained, fresh = random_model(), random_model()
    for _ in range(2):
        train_draw(trained, clips)
    fresh.load_state_dict(trained.state_dict())
    first = eval_keys(trained, clips)
    assert first == eval_keys(trained, clips) == eval_keys(fresh, clips)
    # training draws: evaluation in between changes nothing
    a, b = random_model(), random_model()
    train_draw(a, clips), train_draw(b, clips)
    eval_keys(a, clips)
    assert torch.equal(train_draw(a, clips), train_draw(b, clips))


def test_random_training_draws_resume_from_the_checkpoint(tmp_path,
                                                         monkeypatch):
    """The checkpoint (AtomicCheckpointHook's RNG states) carries the
    training generator: a resumed model draws what the uninterrupted one
    draws next, not the seed's first draws again."""
    from types import SimpleNamespace

    from mmengine.hooks import CheckpointHook

    from mmakm.engine import AtomicCheckpointHook, atomic_torch_save
    monkeypatch.setattr(CheckpointHook, 'before_train', lambda s, r: None)
    clips = [torch.randint(0, 256, (t, 3, 64, 64), dtype=torch.uint8)
             for t in (9, 14, 20)]
    model = random_model()
    hook = AtomicCheckpointHook(interval=1)
    train_draw(model, clips)
    hook._gather_rng_states(SimpleNamespace(model=model))
    checkpoint = dict(state_dict=model.state_dict())
    hook.before_save_checkpoint(None, checkpoint)
    atomic_torch_save(checkpoint, tmp_path / 'epoch_1.pth')
    uninterrupted = train_draw(model, clips)

    resumed = random_model()
    restart = train_draw(random_model(), clips)  # the seed's first draws
    assert not torch.equal(restart, uninterrupted)
    checkpoint = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)
    resumed.load_state_dict(checkpoint['state_dict'])
    hook = AtomicCheckpointHook(interval=1)
    runner = SimpleNamespace(model=resumed, train_dataloader=None)
    hook.after_load_checkpoint(runner, checkpoint)
    hook.before_train(runner)
    assert torch.equal(train_draw(resumed, clips), uninterrupted)


def test_one_frame_too_small_for_train_mode_batchnorm_says_what_to_change():
    """A 1-frame 32-px clip alone gives layer4's BatchNorm one value per
    channel: an error naming the settings (torch's says only the size)."""
    model = build(micro_batch_frames=1, size=32)
    clips = [torch.randint(0, 256, (t, 3, 32, 32), dtype=torch.uint8)
             for t in (1, 3)]
    with pytest.raises(ValueError, match='1 frame of 32x32 px.*norm_eval'):
        model.train_step(dict(inputs=clips, data_samples=samples_for(clips)),
                         wrapper_of(model))
    model = build(size=32)  # the whole batch in one forward: 4 frames
    log = model.train_step(dict(inputs=clips, data_samples=samples_for(clips)),
                           wrapper_of(model))
    assert all(torch.isfinite(v) for v in log.values())


def test_random_draws_follow_the_run_seed_unless_the_neck_has_one():
    """``seed=None``: torch's seed when the neck is built (the runner's
    ``--seed``), so runs with other seeds draw other key frames."""
    x, lengths = torch.rand(60, 4, 1, 1), [25, 35]

    def draw(run_seed, **kwargs):
        torch.manual_seed(run_seed)
        neck = KeyFrameMining(in_channels=4, selection='random', **kwargs)
        torch.rand(7)  # what else the run draws does not matter
        return neck(x, lengths).selection

    assert torch.equal(draw(5), draw(5))
    assert not torch.equal(draw(5), draw(6))
    assert torch.equal(draw(5, seed=3), draw(6, seed=3))
