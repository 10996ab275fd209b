"""mmakm's AKMNet computes what the authors' code computes.

The reference (:mod:`mmakm.testing.official_akmnet`) runs one clip at a time,
unpacked, as the authors' code does; mmakm runs packed batches. Both in
float64, weights copied from the reference, dropout 0 (its random masks
cannot be shared between the two layouts).

BatchNorm: in train mode it normalises with the statistics of the frames of
the batch. The authors' code trains one clip per step, so the reference's
statistics are one clip's frames, while a packed mmakm batch of several
clips uses all their frames: train mode is compared one clip per mmakm batch
(the official recipe is ``batch_size=1`` with 8 accumulated steps in mmakm);
eval mode (running statistics) compares a packed batch of mixed lengths with
the clips one at a time.

Compared: identical B; α, β, scores, the three losses, every parameter's
gradient (conv1, layer4, α, GRU, classifier ...) and BatchNorm's running
statistics to 1e-9 relative. The reference's L_MMM is NaN when no β is below
the mean (mmakm: 0), so every clip here is checked to have both selected and
unselected frames, and at least two key frames (L_GS's kink at ΣB = 1).
"""
import pytest
import torch

from mmaction.structures import ActionDataSample
from mmakm.models.official import convert_official_state_dict
from mmakm.testing import OfficialAKMNet
from models_testlib import (LOSSES, make_clips, make_pair, rel_err,
                            run_reference)

RTOL = 1e-9


def run_akmnet(akm, clips, labels):
    """Packed batch through mmakm: neck output, losses, gradients."""
    akm.zero_grad()
    samples = [ActionDataSample().set_gt_label(y) for y in labels]
    data = akm.data_preprocessor(dict(inputs=clips, data_samples=samples),
                                 True)  # packs; gray / 255 in float64
    inputs, samples = data['inputs'], data['data_samples']
    assert inputs.dtype == torch.float64
    seen = {}  # one forward only: BN running statistics move once
    hooks = [m.register_forward_hook(
        lambda mod, args, out, name=name: seen.__setitem__(name, out))
        for name, m in (('neck', akm.neck), ('head', akm.cls_head))]
    losses = akm(inputs, samples, mode='loss')
    for h in hooks:
        h.remove()
    neck_out, scores = seen['neck'], seen['head']
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    grads = {k: p.grad.clone() for k, p in akm.named_parameters()}
    return neck_out, scores, losses, grads


def assert_conform(ref, akm, clips, labels):
    r_outs, r_losses, r_grads = run_reference(ref, clips, labels)
    m_out, m_scores, m_losses, m_grads = run_akmnet(akm, clips, labels)
    r_sel = torch.cat([o.selection for o in r_outs])
    for o in r_outs:  # both L_MMM means and L_GS's linear part are defined
        assert 2 <= int(o.selection.sum()) < o.selection.numel()
    assert torch.equal(m_out.selection.detach(), r_sel.detach())
    for name, got, want in (
            ('alpha', m_out.alpha, torch.cat([o.alpha for o in r_outs])),
            ('beta', m_out.beta, torch.cat([o.beta for o in r_outs])),
            ('scores', m_scores, torch.cat([o.cls_score for o in r_outs]))):
        assert rel_err(got.detach(), want.detach()) < RTOL, name
    for k in LOSSES:
        got, want = float(m_losses[k].detach()), float(r_losses[k].detach())
        assert abs(got - want) <= RTOL * abs(want), k
        assert want > 0, k  # every term is really compared
    # every parameter's gradient, the reference's mapped like its weights
    want = convert_official_state_dict(r_grads)
    assert set(want) == set(m_grads)
    for k, g in want.items():
        assert g.abs().sum() > 0, k
        assert rel_err(m_grads[k], g) < RTOL, k
    named = ('backbone.conv1.weight', 'backbone.layer4.1.conv2.weight',
             'neck.attention.weight', 'cls_head.gru.weight_hh_l1_reverse')
    assert set(named) <= set(want)
    # BatchNorm running statistics moved the same way (train mode)
    m_state = akm.state_dict()
    for k, v in convert_official_state_dict(ref.state_dict()).items():
        if k.endswith(('running_mean', 'running_var')):
            assert rel_err(m_state[k], v) < RTOL, k


def test_train_mode_one_clip_per_batch():
    ref, akm = make_pair()
    ref.train()
    akm.train()
    for t, clip in zip((5, 9, 16), make_clips((5, 9, 16))):
        assert_conform(ref, akm, [clip], [t % 4])


def test_eval_mode_packed_mixed_lengths():
    ref, akm = make_pair(seed=2)
    ref.eval()
    akm.eval()
    clips = make_clips((4, 11, 7, 19), seed=3)
    assert_conform(ref, akm, clips, [0, 3, 1, 2])


def test_full_width_resnet18():
    """Their exact sizes: 512 channels, 4×4 positions, 128×128 frames."""
    ref, akm = make_pair(base_channels=64)
    ref.eval()
    akm.eval()
    assert akm.neck.attention.in_features == 512
    assert akm.cls_head.fc_cls.in_features == 1024
    assert_conform(ref, akm, make_clips((6, ), seed=4), [2])


def test_preprocessor_is_their_div_255():
    _, akm = make_pair()
    clips = make_clips((3, 5), size=16)
    data = akm.data_preprocessor(dict(inputs=clips, data_samples=None))
    assert torch.equal(data['inputs'], torch.cat(clips).double() / 255)


def test_packed_train_mode_bn_differs_from_one_clip_at_a_time():
    """Why train mode is compared one clip per batch (see module doc)."""
    ref, akm = make_pair()
    ref.train()
    akm.train()
    clips = make_clips((6, 10), seed=5)
    with torch.no_grad():
        packed = akm.neck(akm.backbone(torch.cat(clips).double() / 255),
                          [6, 10]).beta
        alone = torch.cat([ref(c).beta for c in clips])
    assert rel_err(packed, alone) > 1e-6


def test_reference_keeps_the_nan_of_the_official_mmm_loss():
    ref, akm = make_pair()
    ref.eval()
    akm.eval()
    clip = make_clips((1, ), seed=6)[0]  # T = 1: nothing below the mean
    out = ref(clip)
    assert torch.isnan(ref.losses(out, 0)['loss_mmm'])
    samples = [ActionDataSample(metainfo=dict(num_frames=1)).set_gt_label(0)]
    losses = akm(clip.double() / 255, samples, mode='loss')
    assert float(losses['loss_mmm'].detach()) == 0  # mmakm: defined as 0


def test_reference_rejects_colour_or_batched_input():
    ref = OfficialAKMNet(base_channels=8)
    with pytest.raises(ValueError, match=r'one gray clip \(T, 1, H, W\)'):
        ref(torch.zeros(2, 3, 32, 32))
