"""MEDeviceCorpusPreprocessor: batched gather + crop + flip + normalise on
the corpus' device, checked frame by frame against a plain reference; the
packed output feeds AKMNet under bf16 autocast and channels_last on CPU."""
import pytest
import torch
import torch.nn.functional as F

from mmaction.registry import MODELS
from mmengine.dataset import pseudo_collate
from mmakm.datasets import DeviceCorpusDataset, load_corpus
from mmakm.datasets.device_corpus import release_corpora

PLAN = dict(seed=0, subject_clips=[3, 2, 3], min_len=4, max_len=10,
            median_len=6)
CORPUS = dict(type='casme2_sized', size=20, **PLAN)
MEAN, STD = [120.0, 110.0, 100.0], [50.0, 40.0, 30.0]


@pytest.fixture(autouse=True)
def _release():
    yield
    release_corpora()


def _preprocessor(**kwargs):
    cfg = dict(type='MEDeviceCorpusPreprocessor', corpus=CORPUS,
               crop_size=16, mean=MEAN, std=STD)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _batch(indices):
    ds = DeviceCorpusDataset(
        dataset=dict(type='CASME2SizedDataset', plan=PLAN,
                     class_setup='paper4'), corpus=CORPUS, crop_size=16)
    return pseudo_collate([ds[i] for i in indices])


def _normalised(frames):  # (T, H, W, 3) uint8 -> (T, 3, H, W) float
    x = frames.permute(0, 3, 1, 2).float()
    return (x - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(
        3, 1, 1)


def _clip(corpus, batch, b):
    i = int(batch['inputs'][b])
    s, n = int(corpus.starts[i]), int(corpus.lengths[i])
    return corpus.frames[s:s + n]


def test_training_crop_and_flip_match_a_per_clip_reference():
    pre = _preprocessor(flip_ratio=0.5)
    batch = _batch([0, 4, 2, 7, 5])
    torch.manual_seed(3)
    out = pre(batch, training=True)
    # the same draws, replayed: top, left, flip per clip
    torch.manual_seed(3)
    top = torch.randint(0, 5, (5,))
    left = torch.randint(0, 5, (5,))
    flip = torch.rand(5) < 0.5
    corpus = load_corpus(CORPUS)
    want, lengths = [], []
    for b in range(5):
        clip = _clip(corpus, batch, b)
        crop = clip[:, top[b]:top[b] + 16, left[b]:left[b] + 16]
        if flip[b]:
            crop = crop.flip(2)
        want.append(_normalised(crop))
        lengths.append(len(clip))
    assert out['inputs'].shape == (sum(lengths), 3, 16, 16)
    assert torch.allclose(out['inputs'], torch.cat(want), atol=1e-5)
    assert [s.num_frames for s in out['data_samples']] == lengths
    assert flip.any() and not flip.all()  # both paths were exercised


def test_same_seed_same_batch():
    pre = _preprocessor()
    torch.manual_seed(0)
    a = pre(_batch([0, 1, 2]), training=True)['inputs']
    torch.manual_seed(0)
    b = pre(_batch([0, 1, 2]), training=True)['inputs']
    torch.manual_seed(1)
    c = pre(_batch([0, 1, 2]), training=True)['inputs']
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_test_modes_resize_and_center():
    batch = _batch([1, 6])
    corpus = load_corpus(CORPUS)
    clips = [_clip(corpus, batch, b) for b in range(2)]
    out = _preprocessor(test_crop='resize')(batch, training=False)['inputs']
    want = torch.cat([
        (F.interpolate(c.permute(0, 3, 1, 2).float(), size=(16, 16),
                       mode='bilinear', align_corners=False, antialias=True)
         - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)
        for c in clips])
    assert torch.allclose(out, want, atol=1e-4)
    out = _preprocessor(test_crop='center')(batch, training=False)['inputs']
    want = torch.cat([_normalised(c[:, 2:18, 2:18]) for c in clips])
    assert torch.allclose(out, want, atol=1e-5)


def test_memory_format_and_gray():
    batch = _batch([0, 1])
    out = _preprocessor(channels_last=True)(batch, training=True)['inputs']
    assert out.is_contiguous(memory_format=torch.channels_last)
    out = _preprocessor()(batch, training=True)['inputs']
    assert out.is_contiguous()
    gray = _preprocessor(channels=1, mean=[110.0], std=[40.0])
    assert gray(batch, training=True)['inputs'].shape[1] == 1


def test_errors_are_clear():
    with pytest.raises(ValueError, match='test_crop'):
        _preprocessor(test_crop='random')
    with pytest.raises(ValueError, match='crop_size 24 exceeds'):
        _preprocessor(crop_size=24)(_batch([0]), training=True)
    with pytest.raises(IndexError, match='out of range 0..7'):
        _preprocessor()(dict(inputs=[torch.tensor([8])],
                             data_samples=None), training=True)
    batch = _batch([0, 1])
    with pytest.raises(ValueError, match='2 clip indices but 1 data'):
        _preprocessor()(dict(inputs=batch['inputs'],
                             data_samples=batch['data_samples'][:1]))


def test_akmnet_trains_on_it_under_bf16_autocast_channels_last_on_cpu():
    """The GPU recipe's code path (bf16 autocast, channels_last model and
    frames) on CPU: a training step gives finite losses and gradients.

    64 px crops (2x2 positions at the last stage): at 16 px the last stage
    runs on 1x1 maps, where oneDNN's bf16 weight gradient came out
    non-finite in some test orders (not a path the recipe takes)."""
    model = MODELS.build(dict(
        type='AKMNet',
        data_preprocessor=dict(type='MEDeviceCorpusPreprocessor',
                               corpus=dict(CORPUS, size=72), crop_size=64,
                               mean=MEAN, std=STD, channels_last=True),
        backbone=dict(type='FrameResNet', depth=18, base_channels=8),
        neck=dict(type='KeyFrameMining', in_channels=64),
        cls_head=dict(type='PixelBiGRUHead', num_classes=4, in_channels=64,
                      hidden_channels=8, num_layers=1, spatial_size=2),
        loss_aux=dict(type='GSMMMLoss')))
    model = model.to(memory_format=torch.channels_last).train()
    data = model.data_preprocessor(_batch([0, 3, 5]), training=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    assert torch.isfinite(total)
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
