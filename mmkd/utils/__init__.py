from .checkpoint_io import (
                            AtomicLocalBackend,
                            check_checkpoint_fills_model,
                            check_resume_checkpoint,
                            install_checkpoint_io,
                            safe_torch_load,
)
from .config_checks import check_cfg_options
from .dist import cpu_distributed_setup
from .errors import (
                            ConfigError,
                            DataError,
                            TrainingError,
                            check_dir,
                            check_file,
                            report_input_errors,
)
from .global_batch import apply_global_batch, world_size_of
from .setup_env import register_all_modules

__all__ = [
    'AtomicLocalBackend', 'check_resume_checkpoint', 'install_checkpoint_io',
    'check_checkpoint_fills_model', 'check_cfg_options', 'ConfigError',
    'safe_torch_load',
    'cpu_distributed_setup', 'register_all_modules', 'DataError',
    'TrainingError', 'apply_global_batch', 'world_size_of',
    'check_dir', 'check_file', 'report_input_errors'
]
