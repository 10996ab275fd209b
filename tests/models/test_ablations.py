"""Each ablation of the mining neck does what its paper row means.

Gradient reaches α/β only where the method uses them; s12's output equals
the β-weighted features; random selection has the mining count and no
mining loss; the all-frames network is the bi-GRU on the backbone output.
"""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmaction.registry import MODELS
from mmakm.models import KeyFrameMining, threshold_select

from models_testlib import make_batch, tiny_akmnet_cfg

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def build(selection, loss_aux=None, **neck_kwargs):
    cfg = tiny_akmnet_cfg(selection=selection, **neck_kwargs)
    cfg['cls_head']['dropout_ratio'] = 0.
    cfg['loss_aux'] = loss_aux
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def loss_and_backward(model, clips, samples):
    data = model.data_preprocessor(dict(inputs=clips, data_samples=samples),
                                   True)
    losses = model(**data, mode='loss')
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    return losses, data


def test_all_frames_is_the_head_on_the_backbone_output():
    torch.manual_seed(0)
    model = build('all')
    assert not hasattr(model.neck, 'attention')  # nothing to train, no DDP gap
    clips, samples = make_batch([5, 9])
    losses, data = loss_and_backward(model, clips, samples)
    assert set(losses) == {'loss_cls', 'top1_acc'}
    got = model.backbone.conv1.weight.grad.clone()

    # the same network by hand, features straight from the backbone
    model.zero_grad()
    feats = model.backbone(data['inputs'])
    scores = model.cls_head(feats, torch.tensor([5, 9]))
    labels = torch.stack([s.gt_label for s in samples]).view(-1)
    F.cross_entropy(scores, labels).backward()
    torch.testing.assert_close(got, model.backbone.conv1.weight.grad,
                               rtol=0, atol=0)
    out = model.neck(feats.detach(), [5, 9])
    assert out.selection.requires_grad is False
    assert out.selection.tolist() == [1.] * 14
    assert out.beta.requires_grad is False


def test_soft_s12_passes_beta_weighted_features():
    torch.manual_seed(0)
    x = torch.rand(11, 6, 2, 2, requires_grad=True)
    soft = KeyFrameMining(in_channels=6, selection='soft')
    mining = KeyFrameMining(in_channels=6)
    mining.load_state_dict(soft.state_dict())
    out, ref = soft(x, [4, 7]), mining(x, [4, 7])
    torch.testing.assert_close(out.beta, ref.beta)
    # every frame, weighted by its β: F ⊙ β, nothing binarised
    torch.testing.assert_close(out.features,
                               x * ref.beta.view(-1, 1, 1, 1))
    assert out.key_lengths.tolist() == [4, 7]
    assert not torch.equal(out.features, x)  # really weighted
    # the classification gradient reaches α through β
    out.features.sum().backward()
    assert soft.attention.weight.grad.abs().sum() > 0


def test_soft_s12_trains_alpha_without_mining_losses():
    torch.manual_seed(0)
    model = build('soft')
    clips, samples = make_batch([6, 10])
    losses, _ = loss_and_backward(model, clips, samples)
    assert set(losses) == {'loss_cls', 'top1_acc'}
    assert model.neck.attention.weight.grad.abs().sum() > 0


def test_random_has_the_mining_count_and_no_mining_loss():
    torch.manual_seed(0)
    x = torch.rand(30, 4, 2, 2)
    lengths = torch.tensor([12, 18])
    rand = KeyFrameMining(in_channels=4, selection='random', seed=3)
    assert not hasattr(rand, 'attention')
    out = rand(x, lengths)
    # the count eq 8 keeps on β with α ≡ 1 (the same β as s23 computes)
    s23 = KeyFrameMining(in_channels=4, use_local_attention=False)
    ref = s23(x, lengths)
    torch.testing.assert_close(out.beta, ref.beta)
    count = threshold_select(ref.beta, lengths).view(1, -1)
    assert out.key_lengths.tolist() == [int(count[0, :12].sum()),
                                        int(count[0, 12:].sum())]
    assert out.selection.requires_grad is False
    idx = out.selection.bool().nonzero().squeeze(1)
    torch.testing.assert_close(out.features, x[idx])  # in temporal order

    model = build('random')
    clips, samples = make_batch([7, 12])
    losses, _ = loss_and_backward(model, clips, samples)
    assert set(losses) == {'loss_cls', 'top1_acc'}


@pytest.mark.parametrize('selection', ['random', 'soft', 'all'])
def test_mining_losses_are_refused_outside_mining(selection):
    with pytest.raises(ValueError, match='loss_aux=None'):
        build(selection, loss_aux=dict(type='GSMMMLoss'))


def test_random_and_all_refuse_step_ablations():
    for selection in ('random', 'all'):
        with pytest.raises(ValueError, match='learns no mining step'):
            KeyFrameMining(selection=selection, use_local_attention=False)
    with pytest.raises(ValueError, match='selection must be one of'):
        KeyFrameMining(selection='none')


@pytest.mark.parametrize('selection,loss_aux,reaches_alpha', [
    ('mining', dict(type='GSMMMLoss'), True),
    ('soft', None, True),
    ('random', None, False),
    ('all', None, False),
])
def test_every_parameter_trains_or_is_absent(selection, loss_aux,
                                             reaches_alpha):
    """No unused parameter (DDP without find_unused_parameters works)."""
    torch.manual_seed(0)
    model = build(selection, loss_aux=loss_aux)
    clips, samples = make_batch([6, 9])
    loss_and_backward(model, clips, samples)
    unused = [n for n, p in model.named_parameters()
              if p.requires_grad and (p.grad is None or not p.grad.any())]
    assert unused == []
    assert hasattr(model.neck, 'attention') == reaches_alpha


@pytest.mark.parametrize('name,selection', [
    ('akm_allframes_casme2', 'all'), ('akm_s12_casme2', 'soft'),
    ('akm_randomkf_casme2', 'random'), ('akm_s13_casme2', 'mining'),
    ('akm_s23_casme2', 'mining')])
def test_ablation_configs_say_what_they_are(name, selection):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'ablations', name + '.py'))
    assert cfg.model.neck.selection == selection
    assert (cfg.model.loss_aux is None) == (selection != 'mining')
