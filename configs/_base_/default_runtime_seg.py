# mmseg names (EncoderDecoder, LoadAnnotations, ...) resolve in the mmseg
# scope; mmkd types are written `mmkd.X`.
default_scope = 'mmseg'
env_cfg = dict(
    # repeatable kernels (mmseg's default, True, is faster but not)
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
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
tta_model = dict(type='SegTTAModel')

# keep RNGStateHook when overriding custom_hooks: it makes --resume exact
custom_hooks = [dict(type='mmkd.RNGStateHook')]
