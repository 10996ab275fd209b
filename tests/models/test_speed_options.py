"""The speed options, exercised on CPU: autocast (bf16 / fp16 + scaler),
channels_last, train/inference chunking, non-blocking copies."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper

from mmaction.registry import MODELS
from mmakm.engine import AutocastOptimWrapper, resolve_amp_dtype
from mmakm.models.backbones.frame_resnet import (CPU_INFER_CHUNK,
                                                 auto_infer_chunk)
from models_testlib import make_batch, tiny_akmnet_cfg


def _wrapper(model, **kwargs):
    return build_optim_wrapper(model, dict(
        type='AutocastOptimWrapper',
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9), **kwargs))


def test_resolve_amp_dtype(monkeypatch):
    assert resolve_amp_dtype('auto', 'cpu') == torch.bfloat16
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: False)
    assert resolve_amp_dtype('auto', 'cuda') == torch.float16  # e.g. V100
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: True)
    assert resolve_amp_dtype('auto', 'cuda') == torch.bfloat16
    assert resolve_amp_dtype('float16', 'cpu') == torch.float16
    assert resolve_amp_dtype(torch.bfloat16, 'cuda') == torch.bfloat16
    with pytest.raises(ValueError, match='amp dtype'):
        resolve_amp_dtype('float32', 'cpu')
    with pytest.raises(ValueError, match='amp dtype'):
        resolve_amp_dtype('int8', 'cpu')


def test_bf16_autocast_train_step_on_cpu():
    """bf16 autocast runs AKMNet's packed train step on CPU: the backbone
    computes in bf16, the weights, gradients and losses stay fp32."""
    model = MODELS.build(tiny_akmnet_cfg())
    wrapper = _wrapper(model)
    assert wrapper.device_type == 'cpu'
    assert wrapper.cast_dtype == torch.bfloat16
    assert wrapper.loss_scaler is None  # bf16 needs no loss scaling
    seen = []
    model.backbone.layer4.register_forward_hook(
        lambda m, i, o: seen.append(o.dtype))
    clips, samples = make_batch([5, 9, 3])
    before = model.backbone.conv1.weight.detach().clone()
    log = model.train_step(dict(inputs=clips, data_samples=samples), wrapper)
    assert seen == [torch.bfloat16]
    assert all(torch.isfinite(v).all() for v in log.values())
    assert model.backbone.conv1.weight.dtype == torch.float32
    assert not torch.equal(before, model.backbone.conv1.weight)
    assert 'loss_scaler' not in wrapper.state_dict()


def test_fp16_autocast_keeps_a_loss_scaler_and_resumes_it():
    model = MODELS.build(tiny_akmnet_cfg())
    wrapper = _wrapper(model, dtype='float16', loss_scale=512.0)
    assert wrapper.cast_dtype == torch.float16
    assert wrapper.loss_scaler is not None
    clips, samples = make_batch([4, 6])
    before = model.cls_head.fc_cls.weight.detach().clone() if hasattr(
        model.cls_head, 'fc_cls') else None
    log = model.train_step(dict(inputs=clips, data_samples=samples), wrapper)
    assert all(torch.isfinite(v).all() for v in log.values())
    state = wrapper.state_dict()
    assert state['loss_scaler']['scale'] == 512.0  # static scale kept
    if before is not None:
        assert not torch.equal(before, model.cls_head.fc_cls.weight)
    other = _wrapper(MODELS.build(tiny_akmnet_cfg()), dtype='float16')
    other.load_state_dict(state)
    assert other.loss_scaler.get_scale() == 512.0


def test_channels_last_backbone_matches_contiguous():
    torch.manual_seed(0)
    ref = MODELS.build(dict(type='FrameResNet', base_channels=8))
    cl = MODELS.build(dict(type='FrameResNet', base_channels=8,
                           channels_last=True))
    cl.load_state_dict(ref.state_dict())
    assert cl.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.randn(6, 3, 64, 64)
    ref.train(), cl.train()
    y_ref, y_cl = ref(x), cl(x)
    assert y_cl.is_contiguous()
    torch.testing.assert_close(y_cl, y_ref, rtol=1e-4, atol=1e-4)
    y_ref.square().sum().backward()
    y_cl.square().sum().backward()
    g_cl, g_ref = cl.conv1.weight.grad, ref.conv1.weight.grad
    # summation order differs between the layouts: compare as a whole
    assert (g_cl - g_ref).norm() / g_ref.norm() < 1e-4


def test_auto_infer_chunk():
    # fits in half the free memory: the whole batch, no chunking
    assert auto_infer_chunk(700, 4 << 20, 80 << 30) == 0
    # 700 frames × 4 MiB > half of 2 GiB: the largest chunk that fits
    assert auto_infer_chunk(700, 4 << 20, 2 << 30) == 256
    assert auto_infer_chunk(700, 4 << 20, 1 << 20) == 1  # never 0 frames


def test_auto_chunk_on_cpu_is_cache_sized_and_exact():
    torch.manual_seed(0)
    auto = MODELS.build(dict(type='FrameResNet', base_channels=8)).eval()
    whole = MODELS.build(dict(type='FrameResNet', base_channels=8,
                              infer_chunk_size=0)).eval()
    whole.load_state_dict(auto.state_dict())
    x = torch.randn(CPU_INFER_CHUNK + 5, 3, 32, 32)
    assert auto.infer_chunk_size == 'auto'
    assert auto._infer_chunk(x) == CPU_INFER_CHUNK
    with torch.no_grad():
        torch.testing.assert_close(auto(x), whole(x))
    with pytest.raises(ValueError, match='infer_chunk_size'):
        MODELS.build(dict(type='FrameResNet', infer_chunk_size=-1))


def test_cuda_auto_chunk_asks_the_free_memory(monkeypatch):
    """On CUDA 'auto' sizes chunks from torch.cuda.mem_get_info (device
    query stubbed: the arithmetic and the split run on CPU tensors)."""
    net = MODELS.build(dict(type='FrameResNet', base_channels=8)).eval()
    x = torch.randn(40, 3, 32, 32)

    class FakeCuda(torch.Tensor):
        @property
        def device(self):
            return torch.device('cuda', 0)

    fake = x.as_subclass(FakeCuda)
    per_frame = 4 * 8 * 16 * 16 * 4  # 4 stem maps of 8×16×16, fp32
    monkeypatch.setattr(torch.cuda, 'mem_get_info',
                        lambda device=None: (2 * 10 * per_frame, 1 << 40))
    assert net._infer_chunk(fake) == 10
    monkeypatch.setattr(torch.cuda, 'mem_get_info',
                        lambda device=None: (1 << 40, 1 << 40))
    assert net._infer_chunk(fake) == 0


def test_non_blocking_copies_are_configurable():
    pre = MODELS.build(dict(type='MEDataPreprocessor', mean=[0.] * 3,
                            std=[1.] * 3, non_blocking=True))
    assert pre._non_blocking is True
    clips, samples = make_batch([2, 3], size=8)
    out = pre(dict(inputs=clips, data_samples=samples))
    assert out['inputs'].shape == (5, 3, 8, 8)
    torch.testing.assert_close(out['inputs'][2:], clips[1].float())


def test_autocast_wrapper_is_registered_for_configs():
    from mmaction.registry import OPTIM_WRAPPERS
    assert OPTIM_WRAPPERS.get('AutocastOptimWrapper') is AutocastOptimWrapper


def test_train_chunks_normalise_each_chunk_on_its_own():
    """train_chunk_size=k: BatchNorm statistics per chunk of k frames (the
    same as running each chunk alone); k ≥ ΣT is the one-batch default."""
    torch.manual_seed(0)
    whole = MODELS.build(dict(type='FrameResNet', base_channels=8)).train()
    chunked = MODELS.build(dict(type='FrameResNet', base_channels=8,
                                train_chunk_size=4)).train()
    big = MODELS.build(dict(type='FrameResNet', base_channels=8,
                            train_chunk_size=64)).train()
    chunked.load_state_dict(whole.state_dict())
    big.load_state_dict(whole.state_dict())
    x = torch.randn(10, 3, 32, 32)
    ref_chunks = torch.cat([whole(c) for c in x.split(4)])
    whole.load_state_dict(big.state_dict())  # undo the running-stat updates
    y = chunked(x)
    torch.testing.assert_close(y, ref_chunks)
    torch.testing.assert_close(big(x), whole(x))
    assert not torch.allclose(y, whole(x), atol=1e-3)  # BN scope differs
    # eval mode ignores train_chunk_size (running statistics)
    whole.load_state_dict(chunked.state_dict())
    chunked.eval(), whole.eval()
    with torch.no_grad():
        torch.testing.assert_close(chunked(x), whole(x))
    with pytest.raises(ValueError, match='train_chunk_size'):
        MODELS.build(dict(type='FrameResNet', train_chunk_size=-2))


def test_gpu_config_trains_a_step_on_cpu():
    """configs/akm_casme2_gpu.py: every GPU-path option set, and the model
    + optimizer wrapper it builds train a packed batch on CPU (bf16)."""
    import os.path as osp

    import mmakm.engine  # noqa: F401  (AutocastOptimWrapper)
    from mmengine.config import Config
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(repo, 'configs', 'akm_casme2_gpu.py'))
    assert cfg.model.backbone.channels_last is True
    assert cfg.model.data_preprocessor.non_blocking is True
    assert cfg.train_dataloader.pin_memory is True
    assert cfg.env_cfg.cudnn_benchmark is False
    assert cfg.optim_wrapper.optimizer.type == 'SGD'  # the recipe's, kept
    # the recipe's model at test size: 64 px → 2×2 features, narrow widths
    cfg.model.backbone.base_channels = 8
    cfg.model.neck.in_channels = 64
    cfg.model.cls_head.update(in_channels=64, spatial_size=2)
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert wrapper.cast_dtype == torch.bfloat16
    clips, samples = make_batch([7, 3, 5])
    log = model.train_step(dict(inputs=clips, data_samples=samples), wrapper)
    assert all(torch.isfinite(v).all() for v in log.values())
