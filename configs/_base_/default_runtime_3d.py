default_scope = 'mmkd'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    # a non-finite loss stops the run with one line, before any checkpoint
    # of non-finite weights is written (action='skip': skip such steps)
    nonfinite_loss=dict(type='mmkd.NonFiniteLossHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # tools/test.py --show-dir (slice PNGs) / --out-dir (NIfTI predictions)
    visualization=dict(type='mmkd.VolumePredictionHook'))
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
# pictures and scalars go to every backend: add TensorBoard (pip install
# tensorboard) or Weights & Biases (pip install wandb) here
vis_backends = [
    dict(type='LocalVisBackend'),
    # dict(type='TensorboardVisBackend'),
    # dict(type='WandbVisBackend', init_kwargs=dict(project='mmkd')),
]
visualizer = dict(type='Visualizer', vis_backends=vis_backends,
                  name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False

# keep RNGStateHook when overriding custom_hooks: it makes --resume exact
custom_hooks = [dict(type='mmkd.RNGStateHook')]
