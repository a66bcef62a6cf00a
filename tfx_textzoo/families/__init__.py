"""Built-in model families. Importing this package registers them."""

from tfx_textzoo.families import bert, scratch  # noqa: F401
