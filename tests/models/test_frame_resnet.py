import pytest
import torch

from mmaction.registry import MODELS
from mmakm.engine import CheckpointError
from mmakm.models import FrameResNet


def torchvision_style_state_dict(src: FrameResNet) -> dict:
    """What torchvision's resnet18().state_dict() holds: ours plus fc."""
    state = {k: v.clone() for k, v in src.state_dict().items()}
    state['fc.weight'] = torch.randn(1000, 512)
    state['fc.bias'] = torch.randn(1000)
    return state


def test_torchvision_layer_names():
    keys = set(FrameResNet().state_dict())
    for k in ('conv1.weight', 'bn1.running_var', 'layer1.0.conv1.weight',
              'layer1.1.bn2.bias', 'layer2.0.downsample.0.weight',
              'layer2.0.downsample.1.running_mean', 'layer4.1.conv2.weight',
              'layer4.1.bn2.num_batches_tracked'):
        assert k in keys
    # torchvision resnet18 has 122 state entries, 2 of them fc.*
    assert len(keys) == 120


def test_loads_torchvision_checkpoint_from_local_file(tmp_path):
    src = FrameResNet()
    for m in src.modules():  # non-trivial BN stats
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_()
            m.running_var.uniform_(0.5, 2)
    path = tmp_path / 'resnet18-tv.pth'
    torch.save(torchvision_style_state_dict(src), path)

    net = MODELS.build(dict(type='FrameResNet', pretrained=str(path)))
    net.init_weights()
    for k, v in src.state_dict().items():
        torch.testing.assert_close(net.state_dict()[k], v)

    gray = FrameResNet(in_channels=1, pretrained=str(path))
    gray.init_weights()
    torch.testing.assert_close(gray.conv1.weight,
                               src.conv1.weight.sum(1, keepdim=True))
    torch.testing.assert_close(gray.layer3[1].conv2.weight,
                               src.layer3[1].conv2.weight)

    # the 7x7 ImageNet conv1 cannot go into the 5x5 paper stem: an error
    # naming the key and both shapes, unless conv1 may stay initialised
    paper = FrameResNet(stem='paper', pretrained=str(path))
    with pytest.raises(CheckpointError,
                       match=r'conv1\.weight \(checkpoint \(64, 3, 7, 7\), '
                       r'model \(64, 3, 5, 5\)\)'):
        paper.init_weights()
    paper = FrameResNet(stem='paper', pretrained=str(path),
                        pretrained_ignore=('conv1.', ))
    before = paper.conv1.weight.clone()
    paper.init_weights()
    torch.testing.assert_close(paper.conv1.weight, before)
    torch.testing.assert_close(paper.layer2[0].conv1.weight,
                               src.layer2[0].conv1.weight)

    # mmengine's own Pretrained init works too (same layer names)
    net = FrameResNet(init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    net.init_weights()
    torch.testing.assert_close(net.layer4[1].bn2.running_var,
                               src.layer4[1].bn2.running_var)


def test_output_shapes_and_paper_stem():
    x = torch.randn(2, 1, 128, 128)
    net = FrameResNet(stem='paper', in_channels=1).eval()
    assert net.conv1.kernel_size == (5, 5) and net.conv1.stride == (2, 2)
    with torch.no_grad():
        assert net(x).shape == (2, 512, 4, 4)  # the paper's 128 -> 4x4
    small = FrameResNet(base_channels=8)
    assert small(torch.randn(3, 3, 64, 64)).shape == (3, 64, 2, 2)
    with pytest.raises(ValueError, match=r'\(ΣT, C, H, W\)'):
        small(torch.randn(1, 3, 3, 64, 64))
    with pytest.raises(ValueError, match='input channels'):
        small(torch.randn(3, 1, 64, 64))


def test_frozen_stages_and_norm_eval():
    net = FrameResNet(base_channels=8, frozen_stages=1, norm_eval=False)
    net.train()
    assert not net.conv1.weight.requires_grad
    assert not any(p.requires_grad for p in net.layer1.parameters())
    assert all(p.requires_grad for p in net.layer2.parameters())
    assert not net.layer1[0].bn1.training and net.layer2[0].bn1.training
    net = FrameResNet(base_channels=8, norm_eval=True).train()
    assert all(not m.training for m in net.modules()
               if isinstance(m, torch.nn.BatchNorm2d))
    assert net.conv1.weight.requires_grad


def test_eval_chunking_is_exact():
    net = FrameResNet(base_channels=8, infer_chunk_size=4).eval()
    whole = FrameResNet(base_channels=8, infer_chunk_size=0).eval()
    whole.load_state_dict(net.state_dict())
    x = torch.randn(11, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(net(x), whole(x), atol=1e-5, rtol=1e-4)
