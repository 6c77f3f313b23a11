import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register mmdet's, mmseg's and mmkd's modules and install mmkd's
    checkpoint I/O (weights-only loads that accept mmengine checkpoints,
    atomic writes).

    Args:
        init_default_scope: set the default scope to ``mmkd`` when none has
            been created yet.
    """
    import mmdet.utils
    import mmseg.utils
    mmdet.utils.register_all_modules(init_default_scope=False)
    mmseg.utils.register_all_modules(init_default_scope=False)

    import mmkd.datasets  # noqa: F401
    import mmkd.detection  # noqa: F401
    import mmkd.distillation  # noqa: F401
    import mmkd.engine  # noqa: F401
    import mmkd.ops  # noqa: F401  (adds 'mmkd_nms' to mmcv's NMS names)
    import mmkd.segmentation  # noqa: F401
    import mmkd.teacher_student  # noqa: F401
    import mmkd.volumetric  # noqa: F401

    from .checkpoint_io import install_checkpoint_io
    install_checkpoint_io()

    if init_default_scope:
        never_created = DefaultScope.get_current_instance() is None \
            or not DefaultScope.check_instance_created('mmkd')
        if never_created:
            DefaultScope.get_instance('mmkd', scope_name='mmkd')
            return
        current_scope = DefaultScope.get_current_instance()
        if current_scope.scope_name != 'mmkd':
            warnings.warn('The current default scope '
                          f'"{current_scope.scope_name}" is not "mmkd", '
                          '`register_all_modules` will force the current '
                          'default scope to be "mmkd".')
            new_instance_name = f'mmkd-{datetime.datetime.now()}'
            DefaultScope.get_instance(new_instance_name, scope_name='mmkd')
