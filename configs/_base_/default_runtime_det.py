default_scope = 'mmkd'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    # a non-finite loss stops the run with one line, before any checkpoint
    # of non-finite weights is written (action='skip': skip such steps)
    nonfinite_loss=dict(type='mmkd.NonFiniteLossHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DetVisualizationHook'))

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
visualizer = dict(
    type='DetLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

log_level = 'INFO'
load_from = None
resume = False

# keep RNGStateHook when overriding custom_hooks: it makes --resume exact
custom_hooks = [dict(type='mmkd.RNGStateHook')]
