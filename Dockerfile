# The demo app's image. Multi-stage: dependencies are installed in a build stage,
# the runtime stage holds only the virtualenv and runs as UID 1000. Nothing is
# written outside /tmp, so the pod runs with a read-only root filesystem.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY constraints.txt pyproject.toml README.md ./
COPY src ./src
# The wheel carries the shipped scenarios, tours and Terraform configuration
# (pyproject.toml: force-include).
COPY scenarios ./scenarios
COPY walkthroughs ./walkthroughs
COPY terraform ./terraform
# Only the app's runtime dependencies, at the locked versions; not the CLI's. httpx: the
# notification sink (python -m sreshow.adapters.sink) runs this image too and relays;
# hdrhistogram: so does the load generator (python -m sreshow.scenarios.load, a Job).
RUN /opt/venv/bin/pip install --constraint constraints.txt \
        fastapi uvicorn uvloop httptools prometheus-client pydantic httpx hdrhistogram \
    && /opt/venv/bin/pip install --no-deps .

FROM ${PYTHON_IMAGE}
RUN groupadd --gid 1000 app \
    && useradd --uid 1000 --gid 1000 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    APP_HOST=0.0.0.0 \
    APP_PORT=8000
WORKDIR /tmp
USER 1000:1000
EXPOSE 8000
CMD ["python", "-m", "demo_app"]
