"""Save and load fitted estimators without pickle.

``model.save(path)`` writes, and :func:`load` reads, one NumPy ``.npz`` file
that holds only plain numeric/string arrays and a JSON document. It is read
with ``np.load(path, allow_pickle=False)``, so opening a model file never runs
code (a pickle -- and anything ``joblib`` writes -- can run arbitrary code when
loaded: never unpickle a file you did not make yourself).

File layout (format ``"tsrnn-model"``, version :data:`FORMAT_VERSION`)
-----------------------------------------------------------------------
An uncompressed ``.npz`` (a zip of ``.npy`` members) with

``__metadata__``
    1-D ``uint8`` array: UTF-8 bytes of a JSON object with the keys

    * ``"format"``: ``"tsrnn-model"``;
    * ``"format_version"``: int, :data:`FORMAT_VERSION`;
    * ``"tsrnn_version"``: the writer's ``tsrnn.__version__`` (informative);
    * ``"class"``: ``"RNNForecaster"``, ``"RNNRegressor"`` or ``"RNNClassifier"``;
    * ``"params"``: ``get_params(deep=False)``; tuples, NumPy scalar types and
      pandas frequencies are tagged (``{"__tuple__": [...]}``,
      ``{"__dtype__": "float64"}``, ``{"__freq__": ...}``, a custom business
      day as its weekmask and holiday dates) so that they come back as they
      were;
    * ``"attributes"``: the fitted attributes that are plain values (curves,
      counts, the series schema, the layout, the optimizer's scalars, ...);
    * ``"arrays"``: ``{name: {"dtype": str, "shape": [...]}}`` for every other
      member of the file, checked on load.

every name in ``"arrays"``
    The fitted arrays (``params_``, hidden states, scalers, conformal
    residuals, the optimizer's moment vectors, ...), never of ``object`` dtype.

What is restored
----------------
Everything ``predict``, ``predict_interval``, ``update``, ``score`` (and for the
window models ``predict``, ``predict_proba``, ``decision_function``) use, so that
a loaded model gives bit-identical results. The optimizer state (Adam's ``m``,
``v``, ``t``; SGD's velocity) and the training log are saved too, so
``warm_start``/``partial_fit`` continue where they were; the window models'
random stream is restored as well. Not covered: the baselines
(``NaiveForecaster``, ...), and ``random_state`` given as a ``Generator`` or
``RandomState`` (stored as ``None``, with a warning: the fitted weights do not
depend on it any more, only later refits do).

Who owns what
-------------
This package owns the file: the format, its integrity checks and a registry of
the classes a file may hold. Each estimator family owns its state through two
methods (the protocol of torch's ``state_dict``/``load_state_dict``):
``model._state_dict() -> ModelState`` (arrays, and plain attributes that
:func:`save` stores as JSON) and ``est._load_state_dict(state)`` (checks the
state against the network the parameters build and restores it, raising
:class:`StateError` for what does not fit). A class joins with
:func:`register` and gets :meth:`Persistent.save`; nothing here imports an
estimator.

Its modules, one job each (every public name is importable from
``tsrnn.persist``): ``fileformat`` (the format's names,
:class:`ModelFileError`, :func:`write_atomic`), ``jsonvalues`` (parameters
and plain attributes as JSON), ``protocol`` (:class:`ModelState`,
:class:`StateError` and the helpers every state module shares),
``registry`` (:func:`register`, :class:`Persistent`, :func:`save`) and
``reading`` (the checks below, then :func:`load`).

Any file that does not fit this description (another format or version, a
truncated or edited file, arrays missing or of the wrong dtype or shape, shapes
that disagree with the metadata) raises a ``ValueError`` (precisely
:class:`ModelFileError`, a subclass) that says what is wrong and what to do.

Checked before anything is allocated
------------------------------------
:func:`load` reads in this order, and stops at the first misfit:

1. the archive's directory and every member's ``.npy`` header (dtype and
   shape; object dtypes refused), never the data;
2. the metadata (its size within the budget, then the JSON);
3. the arrays the metadata lists against those headers, and their total
   against the size budget ``max_bytes`` (:data:`MAX_LOAD_BYTES`, 4 GiB, by
   default); only then are the arrays read;
4. the estimator's parameters against the class's own constraints
   (``_parameter_constraints``: ``hidden_size`` a positive int, ...);
5. in the estimator's state module, every size the metadata implies (the
   network's parameter count, the states and histories of the series)
   against the arrays actually held, computed before any network is built,
   so a file whose metadata asks for a huge ``hidden_size`` fails with a
   message and never with a ``MemoryError``; then the values: finite where
   a fitted model is finite, scales strictly positive, frequencies and
   counts positive, and so on. A finite but impossible value raises a
   ``ValueError`` naming the field.

Only then is the estimator's state set, all at once.

Writing is atomic (:func:`write_atomic`): a save interrupted at any point
leaves the previous file intact.
"""

from .fileformat import (
    FORMAT_NAME,
    FORMAT_VERSION,
    ModelFileError,
    model_path,
    write_atomic,
)
from .jsonvalues import json_value
from .protocol import (
    ModelState,
    StateError,
    check_array,
    check_spec,
    fitted_attributes,
    is_solver,
    optimizer_state,
    restore_attributes,
    restore_optimizer,
    restore_training_log,
    training_log_state,
)
from .reading import MAX_LOAD_BYTES, find_model_file, load
from .registry import Persistent, register, save

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_LOAD_BYTES",
    "ModelFileError",
    "ModelState",
    "Persistent",
    "StateError",
    "check_array",
    "check_spec",
    "find_model_file",
    "fitted_attributes",
    "is_solver",
    "json_value",
    "load",
    "model_path",
    "optimizer_state",
    "register",
    "restore_attributes",
    "restore_optimizer",
    "restore_training_log",
    "save",
    "training_log_state",
    "write_atomic",
]
