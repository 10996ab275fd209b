import math

import pytest
import torch

from mmaction.registry import MODELS
from mmakm.models import KeyFrameMining, threshold_select


def feats(rows, h=1, w=1):
    """(T, C, h, w) feature maps whose spatial mean is `rows`."""
    p = torch.tensor(rows, dtype=torch.float32)
    return p.view(*p.shape, 1, 1).expand(-1, -1, h, w).clone()


def reference(pooled, alpha, threshold='>'):
    """Plain-Python eqs 6-8 for one clip."""
    c = len(pooled[0])
    tilde = [sum(a * p[i] for a, p in zip(alpha, pooled)) for i in range(c)]
    nt = math.sqrt(sum(v * v for v in tilde))
    beta = [sum(p[i] * tilde[i] for i in range(c)) /
            (math.sqrt(sum(v * v for v in p)) * nt) for p in pooled]
    m = sum(beta) / len(beta)
    sel = [b > m if threshold == '>' else b >= m for b in beta]
    if not any(sel):
        sel = [True] * len(beta)
    return beta, sel


def test_hand_computed_without_attention():
    # s23 (alpha = 1): P~ = (2, 1); beta = (2, 1, 2)/sqrt(5);
    # mean = 5/(3 sqrt5) = 0.745: B = (1, 0, 1)
    neck = KeyFrameMining(in_channels=2, use_local_attention=False)
    x = feats([[1., 0.], [0., 1.], [1., 0.]], 2, 2)
    out = neck(x, [3])
    s5 = math.sqrt(5)
    torch.testing.assert_close(out.alpha, torch.ones(3))
    torch.testing.assert_close(out.beta,
                               torch.tensor([2 / s5, 1 / s5, 2 / s5]))
    assert out.selection.tolist() == [1., 0., 1.]
    assert out.key_lengths.tolist() == [2]
    torch.testing.assert_close(out.features, x[[0, 2]])


def test_hand_computed_with_attention_two_clips():
    neck = KeyFrameMining(in_channels=2)
    with torch.no_grad():
        neck.attention.weight.copy_(torch.tensor([[1., -1.]]))
        neck.attention.bias.fill_(0.5)
    clip_a = [[1., 0.], [0., 1.], [1., 1.], [2., 0.]]
    clip_b = [[0.5, 2.], [3., 1.], [1., 1.5]]
    out = neck(feats(clip_a + clip_b, 2, 3), torch.tensor([4, 3]))
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    beta_ref, sel_ref = [], []
    for clip in (clip_a, clip_b):
        alpha = [sig(p[0] - p[1] + 0.5) for p in clip]
        b, s = reference(clip, alpha)
        beta_ref += b
        sel_ref += s
    torch.testing.assert_close(
        out.alpha, torch.tensor([sig(p[0] - p[1] + .5)
                                 for p in clip_a + clip_b]))
    torch.testing.assert_close(out.beta, torch.tensor(beta_ref))
    assert out.selection.bool().tolist() == sel_ref
    assert out.key_lengths.tolist() == [sum(sel_ref[:4]), sum(sel_ref[4:])]


def test_statistics_are_per_clip():
    torch.manual_seed(0)
    neck = KeyFrameMining(in_channels=8)
    a, b = torch.rand(5, 8, 2, 2), torch.rand(9, 8, 2, 2) * 3
    both = neck(torch.cat([a, b]), [5, 9])
    alone_a, alone_b = neck(a, [5]), neck(b, [9])
    torch.testing.assert_close(both.beta, torch.cat([alone_a.beta,
                                                     alone_b.beta]))
    assert both.selection.tolist() == (alone_a.selection.tolist() +
                                       alone_b.selection.tolist())


def test_threshold_variants_and_degenerate_clips():
    beta = torch.tensor([0.25, 0.5, 0.75, 0.3, 0.3, 1.0])
    lengths = torch.tensor([3, 2, 1])
    assert threshold_select(beta, lengths, '>').tolist() == [
        False, False, True, True, True, True]  # equal / T=1: all kept
    assert threshold_select(beta, lengths, '>=').tolist() == [
        False, True, True, True, True, True]
    neck = KeyFrameMining(in_channels=2)
    out = neck(feats([[1., 2.]]), [1])  # T = 1
    assert out.key_lengths.tolist() == [1]
    torch.testing.assert_close(out.beta, torch.ones(1))


def test_ablations():
    torch.manual_seed(0)
    x = torch.rand(6, 4, 1, 1)
    s12 = KeyFrameMining(in_channels=4, selection='soft')
    assert s12(x, [6]).key_lengths.tolist() == [6]
    s13 = KeyFrameMining(in_channels=4, use_global_correlation=False)
    out = s13(x, [6])
    torch.testing.assert_close(out.beta, out.alpha)  # beta from alpha alone
    s23 = KeyFrameMining(in_channels=4, use_local_attention=False)
    assert not hasattr(s23, 'attention')
    with pytest.raises(ValueError, match='at least one'):
        KeyFrameMining(use_local_attention=False,
                       use_global_correlation=False)


def test_random_selection_same_count_in_order_seeded():
    torch.manual_seed(0)
    x = torch.rand(30, 4, 1, 1)
    lengths = [12, 18]
    mining = KeyFrameMining(in_channels=4, use_local_attention=False)
    rand = MODELS.build(dict(type='KeyFrameMining', in_channels=4,
                             selection='random', seed=3))
    m, r = mining(x, lengths), rand(x, lengths)
    assert r.key_lengths.tolist() == m.key_lengths.tolist()
    r2 = KeyFrameMining(in_channels=4, selection='random', seed=3)
    assert r2(x, lengths).selection.tolist() == r.selection.tolist()
    picks = [rand(x, lengths).selection.tolist() for _ in range(3)]
    assert picks[0] != picks[1] or picks[1] != picks[2]  # it is random
    # kept features are the selected frames, in temporal order
    idx = r.selection.bool().nonzero().squeeze(1)
    torch.testing.assert_close(r.features, x[idx] * 1.0)


def _neck_and_beta(rule, x, lengths):
    neck = KeyFrameMining(in_channels=x.shape[1], grad_rule=rule)
    out = neck(x, lengths)
    out.beta.retain_grad()
    return neck, out


def test_paper_rule_classification_gradient_reaches_key_frames_only():
    torch.manual_seed(0)
    x = torch.rand(7, 4, 2, 2)
    head = MODELS.build(dict(type='PixelBiGRUHead', num_classes=3,
                             in_channels=4, hidden_channels=4,
                             spatial_size=2, dropout_ratio=0.))
    _, out = _neck_and_beta('paper', x, [7])
    loss = torch.nn.functional.cross_entropy(
        head(out.features, out.key_lengths), torch.tensor([1]))
    loss.backward()
    key = out.selection.detach().bool()
    assert 0 < key.sum() < 7
    assert torch.all(out.beta.grad[~key] == 0)
    assert torch.all(out.beta.grad[key] != 0)


def test_straight_through_value_is_dF_key_dot_F():
    torch.manual_seed(0)
    x = torch.rand(6, 3, 2, 2)
    _, out = _neck_and_beta('paper', x, [6])
    g = torch.randn_like(out.features)
    (out.features * g).sum().backward()
    key = out.selection.detach().bool()
    expected = torch.zeros(6)
    expected[key] = (g * x[key]).sum(dim=(1, 2, 3))
    torch.testing.assert_close(out.beta.grad, expected)


def test_official_rule_differs():
    torch.manual_seed(0)
    x = torch.rand(9, 4, 1, 1)
    lengths = [8, 1]
    grads = {}
    for rule in ('paper', 'official'):
        _, out = _neck_and_beta(rule, x, lengths)
        # a loss on B itself (like L_GS) reaches every frame under 'official'
        out.selection.sum().backward()
        grads[rule] = out.beta.grad
        key = out.selection.detach().bool()
    # paper: exactly the selected frames get dL/dB = 1
    torch.testing.assert_close(grads['paper'], key.float())
    # official: every frame of clip 0 (0 < mean(beta) < 1) ...
    torch.testing.assert_close(grads['official'][:8], torch.ones(8))
    # ... and nothing for the T=1 clip, whose mean(beta) = 1
    assert grads['official'][8] == 0 and grads['paper'][8] == 1


def test_errors():
    neck = KeyFrameMining(in_channels=4)
    with pytest.raises(ValueError, match='sum to 5'):
        neck(torch.rand(6, 4, 1, 1), [2, 3])
    with pytest.raises(ValueError, match='zero-length'):
        neck(torch.rand(3, 4, 1, 1), [3, 0])
    with pytest.raises(ValueError, match='got shape'):
        neck(torch.rand(2, 3, 4, 1, 1), [2])
    with pytest.raises(ValueError, match="'>' or '>='"):
        KeyFrameMining(threshold='<')
    with pytest.raises(ValueError, match='grad_rule'):
        KeyFrameMining(grad_rule='ste')
