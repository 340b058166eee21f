# mlx in a container: the spec and its data are mounted at /work.
#
#   docker build -t automl-yaml .                         # from a checkout of this repository
#   docker run --rm -v "$PWD:/work" --user "$(id -u):$(id -g)" automl-yaml run spec.yaml
#
# Extras (sql, s3, mongo, boost, ...): docker build --build-arg EXTRAS=sql,s3 -t automl-yaml .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib

# The project from the build context (see .dockerignore), at the version of
# that checkout; its dependencies as pyproject.toml bounds them.
ARG EXTRAS=""
COPY pyproject.toml README.md /src/
COPY automl_yaml /src/automl_yaml
COPY examples /src/examples
RUN pip install --no-cache-dir "/src${EXTRAS:+[$EXTRAS]}" \
    && rm -rf /src \
    && mlx --version

# A user without privileges; run with --user "$(id -u):$(id -g)" so that the
# outputs on the mounted folder belong to you.
RUN groupadd --gid 1000 mlx && useradd --create-home --uid 1000 --gid 1000 mlx
USER 1000:1000

WORKDIR /work
ENTRYPOINT ["mlx"]
CMD ["--help"]
