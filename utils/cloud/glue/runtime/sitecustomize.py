"""Start-up hook of local Glue job runs: hide this project's own package from job scripts.

AWS Glue runs a job script with its libraries, never with this project's ``utils``
package. The project may be pip-installed in editable mode into the same virtual
environment, which would let a script ``import utils`` locally and then break on
AWS. Python imports ``sitecustomize`` at start-up from ``PYTHONPATH`` (the job
runner puts this folder there), after site-packages' ``.pth`` hooks ran, so this
is the place to remove the editable install's import hooks.
"""

import sys

_MARK = "__editable__"
_PROJECT = "delab"

sys.meta_path[:] = [f for f in sys.meta_path
                    if not (type(f).__module__.startswith(f"{_MARK}_") and _PROJECT in type(f).__module__)
                    and not (getattr(f, "__module__", "").startswith(f"{_MARK}_")
                             and _PROJECT in getattr(f, "__module__", ""))]
sys.path[:] = [p for p in sys.path if not (p.startswith(f"{_MARK}.{_PROJECT}") and "path_hook" in p)]
