import pytest
import torch

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample


def build(**kw):
    return MODELS.build(dict(type='MEDataPreprocessor', **kw))


def test_packs_without_padding_and_records_lengths():
    pre = build(mean=[10., 20., 30.], std=[2., 4., 5.])
    clips = [torch.randint(0, 256, (t, 3, 8, 8), dtype=torch.uint8)
             for t in (2, 5, 1)]
    samples = [ActionDataSample() for _ in clips]
    out = pre(dict(inputs=clips, data_samples=samples))
    x = out['inputs']
    assert x.shape == (8, 3, 8, 8) and x.dtype == torch.float32
    assert [s.num_frames for s in out['data_samples']] == [2, 5, 1]
    ref = (torch.cat(clips).float() -
           torch.tensor([10., 20., 30.]).view(1, 3, 1, 1)) / torch.tensor(
               [2., 4., 5.]).view(1, 3, 1, 1)
    torch.testing.assert_close(x, ref)


def test_to_rgb_and_channel_handling():
    clip = torch.randint(0, 256, (3, 3, 4, 4), dtype=torch.uint8)
    out = build(to_rgb=True)(dict(inputs=[clip], data_samples=None))
    torch.testing.assert_close(out['inputs'], clip.flip(1).float())
    assert out['data_samples'][0].num_frames == 3

    gray = build(channels=1)(dict(inputs=[clip], data_samples=None))['inputs']
    c = clip.float()
    ref = 0.299 * c[:, 0] + 0.587 * c[:, 1] + 0.114 * c[:, 2]
    assert gray.shape == (3, 1, 4, 4)
    torch.testing.assert_close(gray[:, 0], ref)

    one = torch.randint(0, 256, (2, 1, 4, 4), dtype=torch.uint8)
    rgb = build(channels=3, mean=[1.], std=[2.])(
        dict(inputs=[one], data_samples=None))['inputs']
    assert rgb.shape == (2, 3, 4, 4)
    torch.testing.assert_close(rgb[:, 2], (one[:, 0].float() - 1) / 2)


def test_packed_and_5d_inputs():
    pre = build()
    samples = [ActionDataSample(metainfo=dict(num_frames=n)) for n in (3, 4)]
    out = pre(dict(inputs=torch.zeros(7, 3, 4, 4), data_samples=samples))
    assert out['inputs'].shape[0] == 7
    out = pre(dict(inputs=torch.zeros(2, 5, 3, 4, 4), data_samples=None))
    assert out['inputs'].shape == (10, 3, 4, 4)
    assert [s.num_frames for s in out['data_samples']] == [5, 5]


def test_errors():
    pre = build()
    with pytest.raises(ValueError, match='zero frames'):
        pre(dict(inputs=[torch.zeros(2, 3, 4, 4), torch.zeros(0, 3, 4, 4)],
                 data_samples=None))
    with pytest.raises(ValueError, match=r'\(T, C, H, W\)'):
        pre(dict(inputs=[torch.zeros(3, 4, 4)], data_samples=None))
    with pytest.raises(ValueError, match='frame shape'):
        pre(dict(inputs=[torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 5, 4)],
                 data_samples=None))
    samples = [ActionDataSample(metainfo=dict(num_frames=n)) for n in (3, 3)]
    with pytest.raises(ValueError, match='sum to 6'):
        pre(dict(inputs=torch.zeros(7, 3, 4, 4), data_samples=samples))
    with pytest.raises(ValueError, match='num_frames'):
        pre(dict(inputs=torch.zeros(7, 3, 4, 4),
                 data_samples=[ActionDataSample()]))
    with pytest.raises(ValueError, match='got shape'):
        pre(dict(inputs=torch.zeros(3, 4, 4), data_samples=None))
    with pytest.raises(ValueError, match='mean and std|both'):
        build(mean=[1., 2., 3.])
