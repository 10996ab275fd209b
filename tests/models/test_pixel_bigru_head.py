import pytest
import torch

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample


def build(**kw):
    cfg = dict(type='PixelBiGRUHead', num_classes=3, in_channels=6,
               hidden_channels=4, spatial_size=(2, 3), dropout_ratio=0.5)
    cfg.update(kw)
    head = MODELS.build(cfg)
    head.init_weights()
    torch.nn.init.normal_(head.fc_cls.weight)  # make scores non-trivial
    return head


def reference(head, x, key_lengths):
    """Loop over clips and positions, one unpadded sequence at a time."""
    scores = []
    for clip in x.split(key_lengths):
        cols = []
        for i in range(clip.shape[2]):
            for j in range(clip.shape[3]):
                out, _ = head.gru(clip[:, :, i, j].unsqueeze(0))
                cols.append(out[0].mean(0))
        g = torch.stack(cols, 1).reshape(-1)  # (2H, h*w) channel-major
        scores.append(head.fc_cls(g))
    return torch.stack(scores)


def test_matches_per_position_reference_and_one_gru_call():
    head = build().eval()
    x = torch.randn(1 + 4 + 7, 6, 2, 3)
    calls = []
    head.gru.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        out = head(x, torch.tensor([1, 4, 7]))
    assert out.shape == (3, 3)
    assert len(calls) == 1  # all clips and positions in ONE GRU call
    assert sum(isinstance(m, torch.nn.GRU) for m in head.modules()) == 1
    gru = head.gru
    assert (gru.input_size, gru.hidden_size, gru.num_layers,
            gru.bidirectional) == (6, 4, 2, True)
    with torch.no_grad():
        torch.testing.assert_close(out, reference(head, x, [1, 4, 7]),
                                   atol=1e-5, rtol=1e-4)


def test_default_paper_sizes():
    head = MODELS.build(dict(type='PixelBiGRUHead', num_classes=4))
    assert head.gru.input_size == 512 and head.gru.hidden_size == 32
    assert head.gru.num_layers == 2
    assert head.fc_cls.in_features == 64 * 4 * 4
    assert head.dropout.p == 0.5


def test_loss_with_class_weights_and_predict():
    x = torch.randn(5, 6, 2, 3)
    samples = [ActionDataSample().set_gt_label(y) for y in (0, 2)]
    plain = build(dropout_ratio=0.)
    weighted = build(dropout_ratio=0.,
                     loss_cls=dict(type='CrossEntropyLoss',
                                   class_weight=[1., 0.1, 5.]))
    weighted.load_state_dict(plain.state_dict())
    a = plain.loss(x, samples, key_lengths=[2, 3])
    b = weighted.loss(x, samples, key_lengths=[2, 3])
    assert set(a) == {'loss_cls', 'top1_acc'}
    assert not torch.isclose(a['loss_cls'], b['loss_cls'])
    preds = plain.predict_by_feat(plain(x, [2, 3]), samples)
    torch.testing.assert_close(preds[0].pred_score.sum(), torch.tensor(1.))
    assert preds[1].pred_label.shape == (1, )


@pytest.mark.parametrize('kw', [
    dict(topk=(1, 3)),
    dict(topk=(1, 2), label_smooth_eps=0.1),
    dict(loss_cls=dict(type='CrossEntropyLoss', class_weight=[1., .2, 3.,
                                                              .5, 1.])),
])
def test_loss_by_feat_matches_mmaction_numpy_path(kw):
    """The device-side accuracies and loss equal mmaction's BaseHead ones."""
    from mmaction.models.heads.base import BaseHead
    head = build(num_classes=5, **kw)
    gen = torch.Generator().manual_seed(0)
    scores = torch.randn(16, 5, generator=gen)  # no ties
    labels = torch.randint(0, 5, (16, ), generator=gen)
    samples = [ActionDataSample().set_gt_label(int(y)) for y in labels]
    ours = head.loss_by_feat(scores, samples)
    theirs = BaseHead.loss_by_feat(head, scores, samples)
    assert set(ours) == set(theirs)
    for key in theirs:
        torch.testing.assert_close(ours[key].float(), theirs[key].float())
    # the accuracies are not trivially 0 or 1 on these scores
    assert 0 < float(ours['top1_acc']) < 1


def test_errors():
    head = build()
    with pytest.raises(ValueError, match='sum to 5'):
        head(torch.randn(5, 6, 2, 3), [2, 2])
    with pytest.raises(ValueError, match='positive'):
        head(torch.randn(5, 6, 2, 3), [5, 0])
    with pytest.raises(ValueError, match=r'\(C, h, w\)'):
        head(torch.randn(5, 6, 4, 4), [5])


def padded_reference(head, x, key_lengths):
    """The head through ``pack_padded_sequence`` / ``pad_packed_sequence``
    of a zero-padded (B·hw, max_len, C) batch."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    hw = x.shape[2] * x.shape[3]
    clips = x.flatten(2).transpose(1, 2).split(key_lengths.tolist())
    padded = torch.nn.utils.rnn.pad_sequence(clips, batch_first=True)
    padded = padded.transpose(1, 2).reshape(len(clips) * hw,
                                            padded.shape[1], -1)
    seq_lengths = key_lengths.repeat_interleave(hw)
    out, _ = head.gru(pack_padded_sequence(padded, seq_lengths,
                                           batch_first=True,
                                           enforce_sorted=False))
    out, _ = pad_packed_sequence(out, batch_first=True)
    out = out.sum(1) / seq_lengths.unsqueeze(1)
    feat = out.view(len(clips), hw, -1).transpose(1, 2).reshape(
        len(clips), -1)
    return head.fc_cls(feat)


@pytest.mark.parametrize('lengths', [[1, 4, 7], [5, 5, 2, 5], [3], [1, 1]])
def test_direct_packing_equals_pack_padded_sequence(lengths):
    from torch.nn.utils.rnn import pack_padded_sequence

    from mmakm.models.heads.pixel_bigru_head import packing_plan
    head = build(dropout_ratio=0).train()
    key_lengths = torch.tensor(lengths)
    x = torch.randn(sum(lengths), 6, 2, 3, requires_grad=True)
    plan = packing_plan(key_lengths.numpy(), 6)
    seq_ids = torch.arange(len(lengths) * 6, dtype=torch.float)
    ref_sizes = pack_padded_sequence(
        seq_ids.view(-1, 1, 1).expand(-1, max(lengths), 1),
        key_lengths.repeat_interleave(6), batch_first=True,
        enforce_sorted=False)
    assert torch.equal(plan.batch_sizes, ref_sizes.batch_sizes)
    # the same sequence in every packed row as torch's own packing (so the
    # GRU's weight gradients sum over rows in the same order)
    assert plan.index[2].tolist() == ref_sizes.data.view(-1).long().tolist()
    assert sorted(plan.index[0] * 6 + plan.index[1]) == list(
        range(sum(lengths) * 6))  # every (frame, position) read once
    # the same scores and gradients as the padded path
    grads = []
    for fn in (head, lambda x, k: padded_reference(head, x, k)):
        head.zero_grad()
        x.grad = None
        scores = fn(x, key_lengths)
        (scores * torch.arange(1.0, 4.0)).sum().backward()
        grads.append((scores.detach(), x.grad.clone(),
                      head.gru.weight_hh_l0.grad.clone()))
    for got, want in zip(*grads):
        assert torch.equal(got, want)  # bit-identical


def count_head_ops(lengths):
    """aten operators of the head's forward + backward outside the GRU (the
    GRU replaced by one matmul), at paper sizes (512 channels, 4×4)."""
    from torch.nn.utils.rnn import PackedSequence
    from torch.utils._python_dispatch import TorchDispatchMode

    class Count(TorchDispatchMode):
        n = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.n += 1
            return func(*args, **(kwargs or {}))

    class OneMatmulGRU(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.randn(512, 64))

        def forward(self, x):
            return PackedSequence(x.data @ self.w, *x[1:]), None

    head = build(in_channels=512, hidden_channels=32, spatial_size=4)
    head.gru = OneMatmulGRU()
    key_lengths = torch.tensor(lengths)
    x = torch.randn(sum(lengths), 512, 4, 4, requires_grad=True)
    with Count() as count:
        head(x, key_lengths).sum().backward()
    return count.n


def test_head_ops_do_not_grow_with_clip_length():
    # pack_padded_sequence / pad_packed_sequence copy once per time step
    # (forward and backward): on a GPU each copy is a kernel launch
    short = count_head_ops([5, 3, 1, 4, 2, 5, 3, 5])
    long = count_head_ops([66, 40, 12, 70, 20, 50, 23, 70])
    assert short == long < 100
