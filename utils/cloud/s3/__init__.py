"""S3 object bodies on disk: moto's S3 with bodies as durable files instead of memory.

- :mod:`.models`: :class:`~.models.DurableKey` (moto's ``FakeKey`` whose body is a
  file under the persistence store) and streamed multipart completion;
- :mod:`.responses`: request bodies streamed to disk before moto sees the request,
  object bodies streamed from disk to the client.

Installed by :func:`utils.cloud.moto_state.install` when persistence is enabled;
without it (in-thread test clouds) moto keeps its own in-memory bodies.
"""
