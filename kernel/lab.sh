#!/bin/sh
# Starts JupyterLab, or else the classic Notebook, on notebooks/ (run by
# `make lab` after it has installed the GoNB kernel). It looks on PATH and
# where pipx and a venv at ~/.venvs/jupyter put Jupyter, and passes
# --allow-root when run as root (the usual case in containers, where
# Jupyter otherwise refuses to start). With LAB_FIND=1 it only prints the
# command it would run. Without Jupyter it says how to install it on
# Debian/Ubuntu and exits 1.
find_jupyter() {
	for app in jupyter-lab jupyter-notebook; do
		for dir in "" "$HOME/.local/bin/" "$HOME/.venvs/jupyter/bin/"; do
			if command -v "$dir$app" >/dev/null 2>&1; then
				command -v "$dir$app"
				return 0
			fi
		done
	done
	return 1
}
if ! app=$(find_jupyter); then
	{
		echo 'Jupyter is not installed. On Debian or Ubuntu, one of:'
		echo '  sudo apt-get install pipx && pipx install jupyterlab'
		echo '  sudo apt-get install python3-venv && python3 -m venv ~/.venvs/jupyter && ~/.venvs/jupyter/bin/pip install jupyterlab'
		echo '  sudo apt-get install jupyter-notebook        (Debian'\''s own classic Notebook)'
		echo '(plain '\''pip install jupyterlab'\'' is refused on Debian 12 and later: the system Python is externally managed)'
		echo 'then run '\''make lab'\'' again; it finds Jupyter in any of those places. '\''make figures'\'' needs no Jupyter.'
	} >&2
	exit 1
fi
set -- "$app" --notebook-dir=notebooks
if [ "$(id -u)" = 0 ]; then
	set -- "$@" --allow-root
fi
if [ "$LAB_FIND" = 1 ]; then
	echo "$@"
	exit 0
fi
exec "$@"
