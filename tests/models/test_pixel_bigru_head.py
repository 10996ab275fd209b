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
