import pytest
import torch

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from models_testlib import (assert_same_prediction, make_batch,
                            tiny_akmnet_cfg)


def build(**neck_kwargs):
    model = MODELS.build(tiny_akmnet_cfg(**neck_kwargs))
    model.init_weights()
    return model


def run(model, clips, samples, mode):
    data = model.data_preprocessor(dict(inputs=clips, data_samples=samples),
                                   mode == 'loss')
    return model(**data, mode=mode)


def test_mixed_lengths_train_and_predict():
    model = build()
    clips, samples = make_batch([9, 24, 141])
    model.train()
    losses = run(model, clips, samples, 'loss')
    assert set(losses) == {'loss_cls', 'loss_gs', 'loss_mmm', 'top1_acc'}
    total = losses['loss_cls'] + losses['loss_gs'] + losses['loss_mmm']
    assert torch.isfinite(total)
    total.backward()
    model.eval()
    with torch.no_grad():
        preds = run(model, clips, samples, 'predict')
    for p, t in zip(preds, (9, 24, 141)):
        assert p.pred_score.shape == (4, )
        torch.testing.assert_close(p.pred_score.sum(), torch.tensor(1.))
        assert p.frame_weights.shape == (t, )
        assert p.frame_weights.dtype == torch.float32
        assert p.key_frames.dtype == torch.long
        k = p.key_frames
        assert 1 <= len(k) <= t and k.min() >= 0 and k.max() < t
        assert torch.all(k[1:] > k[:-1])  # temporal order
        # key frames are the frames with beta above the clip's own mean
        beta = p.frame_weights
        expected = (beta > beta.mean()).nonzero().squeeze(1)
        assert k.tolist() == expected.tolist()
        d = p.to_dict()
        assert {'key_frames', 'frame_weights', 'pred_score',
                'pred_label'} <= set(d)


def test_eval_invariance_alone_or_batched_any_order():
    model = build().eval()
    clips, samples = make_batch([9, 30, 57])

    def predict(order):
        cs = [clips[i] for i in order]
        ss = [ActionDataSample() for _ in order]
        with torch.no_grad():
            out = run(model, cs, ss, 'predict')
        return {i: o for i, o in zip(order, out)}

    alone = {i: predict([i])[i] for i in range(3)}
    for order in ([0, 1, 2], [2, 0, 1], [1, 2, 0]):
        batched = predict(order)
        for i in range(3):
            assert_same_prediction(alone[i], batched[i])


def test_parameter_count_independent_of_clip_length_single_gru():
    model = build()
    n0 = sum(p.numel() for p in model.parameters())
    model.eval()
    with torch.no_grad():
        for t in (2, 40):
            clips, samples = make_batch([t])
            run(model, clips, samples, 'predict')
            assert sum(p.numel() for p in model.parameters()) == n0
    grus = [m for m in model.modules() if isinstance(m, torch.nn.GRU)]
    assert len(grus) == 1 and grus[0].input_size == 64


def test_one_sgd_step_changes_all_parts():
    model = build()
    model.train()
    watched = {
        'attention': model.neck.attention.weight,
        'gru': model.cls_head.gru.weight_ih_l0,
        'classifier': model.cls_head.fc_cls.weight,
        'backbone': model.backbone.conv1.weight,
    }
    before = {k: v.detach().clone() for k, v in watched.items()}
    optim = torch.optim.SGD(model.parameters(), lr=0.1)
    clips, samples = make_batch([6, 11])
    losses = run(model, clips, samples, 'loss')
    optim.zero_grad()
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    optim.step()
    for k, v in watched.items():
        assert not torch.equal(before[k], v.detach()), k


def test_tensor_mode_and_5d_input():
    model = build().eval()
    with torch.no_grad():
        scores = model(torch.randn(2, 5, 3, 64, 64), mode='tensor')
        assert scores.shape == (2, 4)
        feats = model(torch.randn(7, 3, 64, 64), mode='tensor',
                      stage='backbone')
        assert feats.shape == (7, 64, 2, 2)


def test_errors():
    model = build()
    with pytest.raises(ValueError, match='got shape'):
        model(torch.randn(3, 64, 64), mode='tensor')
    with pytest.raises(ValueError, match='zero'):
        run(model, [torch.zeros(0, 3, 64, 64, dtype=torch.uint8)],
            [ActionDataSample()], 'loss')
    samples = [ActionDataSample(metainfo=dict(num_frames=n)) for n in (2, 4)]
    with pytest.raises(ValueError, match='sum to 6'):
        model(torch.randn(5, 3, 64, 64), samples, mode='predict')
    samples = [ActionDataSample(metainfo=dict(num_frames=n)) for n in (5, 0)]
    with pytest.raises(ValueError, match='zero-length'):
        model(torch.randn(5, 3, 64, 64), samples, mode='predict')


def test_ablation_configs_run():
    clips, samples = make_batch([5, 8])
    for kw in (dict(use_global_correlation=False),
               dict(use_local_attention=False),
               dict(threshold='>=', grad_rule='official'),
               dict(selection='soft', loss_aux=None),
               dict(selection='random', loss_aux=None),
               dict(selection='all', loss_aux=None)):
        kw = dict(kw)
        cfg = tiny_akmnet_cfg(**kw)
        if 'loss_aux' in kw:
            cfg['loss_aux'] = cfg['neck'].pop('loss_aux')
        model = MODELS.build(cfg)
        model.init_weights()
        losses = run(model, clips, samples, 'loss')
        assert all(torch.isfinite(v) for v in losses.values()), kw
    cfg = tiny_akmnet_cfg(selection='all')
    cfg['loss_aux'] = None
    model = MODELS.build(cfg).eval()
    with torch.no_grad():
        preds = run(model, clips, samples, 'predict')
    assert [len(p.key_frames) for p in preds] == [5, 8]


def test_with_mmaction_resnet_backbone():
    cfg = dict(
        type='AKMNet',
        backbone=dict(type='ResNet', depth=18, pretrained=None),
        neck=dict(type='KeyFrameMining', in_channels=512),
        cls_head=dict(type='PixelBiGRUHead', num_classes=3, in_channels=512,
                      hidden_channels=8, spatial_size=1),
        data_preprocessor=dict(type='MEDataPreprocessor',
                               mean=[128.] * 3, std=[64.] * 3))
    model = MODELS.build(cfg)
    model.init_weights()
    clips, samples = make_batch([3, 6], size=32, labels=[0, 2])
    losses = run(model, clips, samples, 'loss')
    assert torch.isfinite(losses['loss_cls'])
    model.eval()
    with torch.no_grad():
        preds = run(model, clips, samples, 'predict')
    assert [p.frame_weights.shape[0] for p in preds] == [3, 6]


def test_gray_paper_stem_config():
    cfg = tiny_akmnet_cfg()
    cfg['backbone'].update(stem='paper', in_channels=1)
    cfg['data_preprocessor'] = dict(type='MEDataPreprocessor', channels=1,
                                    mean=[128.], std=[64.])
    model = MODELS.build(cfg)
    clips, samples = make_batch([4, 7])
    losses = run(model, clips, samples, 'loss')
    assert torch.isfinite(losses['loss_cls'])


def test_backbone_batchnorm_sees_real_frames_only():
    import copy
    model = build()
    fresh = copy.deepcopy(model.backbone)
    model.train()
    fresh.train()
    clips, samples = make_batch([3, 9])
    data = model.data_preprocessor(dict(inputs=clips, data_samples=samples),
                                   True)
    assert data['inputs'].shape[0] == 12  # packed: no padding frame exists
    model(**data, mode='loss')
    fresh(data['inputs'])  # exactly the 12 real frames
    torch.testing.assert_close(model.backbone.bn1.running_mean,
                               fresh.bn1.running_mean)
    torch.testing.assert_close(model.backbone.layer4[1].bn2.running_var,
                               fresh.layer4[1].bn2.running_var)
