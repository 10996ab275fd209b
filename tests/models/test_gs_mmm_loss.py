import math

import pytest
import torch

from mmaction.registry import MODELS


def test_hand_computed_terms():
    loss = MODELS.build(dict(type='GSMMMLoss'))
    s5 = math.sqrt(5)
    # clip 0: beta (2, 1, 2)/sqrt5, B (1, 0, 1): GS = 1, MMM = 2 - 1/sqrt5
    # clip 1: beta (.9, .1, .2, .6), B (1, 0, 0, 1): GS = 1,
    #         MMM = 2 - (.75 - .15) = 1.4
    beta = torch.tensor([2 / s5, 1 / s5, 2 / s5, .9, .1, .2, .6])
    sel = torch.tensor([1., 0., 1., 1., 0., 0., 1.])
    out = loss(beta, sel, [3, 4])
    torch.testing.assert_close(out['loss_gs'], torch.tensor(0.1 * 1.0))
    torch.testing.assert_close(
        out['loss_mmm'], torch.tensor(((2 - 1 / s5) + 1.4) / 2))


def test_weights_and_margin():
    loss = MODELS.build(dict(type='GSMMMLoss', lambda_gs=0.5,
                             lambda_mmm=2.0, margin=1.0))
    beta = torch.tensor([.8, .2, .7, .9])
    sel = torch.tensor([1., 0., 1., 1.])
    out = loss(beta, sel, [4])
    torch.testing.assert_close(out['loss_gs'], torch.tensor(0.5 * 2))
    torch.testing.assert_close(out['loss_mmm'],
                               torch.tensor(2.0 * (1 - (0.8 - 0.2))))


def test_degenerate_clips_are_finite():
    loss = MODELS.build(dict(type='GSMMMLoss'))
    # T = 1 clip and an all-equal clip (all frames kept): no B = 0 set;
    # their MMM term is 0 and the batch mean is over all 3 clips.
    beta = torch.tensor([1.0, .5, .5, .5, .9, .1], requires_grad=True)
    sel = torch.tensor([1., 1., 1., 1., 1., 0.])
    out = loss(beta, sel, [1, 3, 2])
    assert all(torch.isfinite(v) for v in out.values())
    torch.testing.assert_close(out['loss_mmm'], torch.tensor((2 - .8) / 3))
    torch.testing.assert_close(out['loss_gs'], torch.tensor(0.1 * 2 / 3))
    sum(out.values()).backward()
    assert torch.isfinite(beta.grad).all()
    assert torch.all(beta.grad[:4] == 0)  # degenerate clips: no MMM gradient
    torch.testing.assert_close(beta.grad[4:], torch.tensor([-1., 1.]) / 3)


def test_gs_gradient_goes_through_selection():
    loss = MODELS.build(dict(type='GSMMMLoss', lambda_mmm=0.))
    beta = torch.tensor([.9, .1, .8], requires_grad=True)
    hard = torch.tensor([1., 0., 1.])
    sel = hard + (beta - beta.detach()) * hard  # paper straight-through
    loss(beta, sel, [3])['loss_gs'].backward()
    torch.testing.assert_close(beta.grad, 0.1 * hard)


def test_errors():
    loss = MODELS.build(dict(type='GSMMMLoss'))
    with pytest.raises(ValueError, match='sum to 3'):
        loss(torch.rand(3), torch.ones(3), [1, 1])
    with pytest.raises(ValueError, match=r'\(ΣT,\)'):
        loss(torch.rand(3), torch.ones(2), [3])
