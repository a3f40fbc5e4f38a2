"""A throwaway Orthanc archive on loopback for the PACS tests (Debian package ``orthanc``,
DICOMweb from ``orthanc-dicomweb`` when installed).

Configuration: storage in a temporary folder, free DICOM and HTTP ports on 127.0.0.1,
``RemoteAccessAllowed`` false, the called AE title checked, CobbDesk registered as a modality
(AE ``COBBDESK`` at 127.0.0.1 and its C-MOVE port).  :func:`start` returns None with the reason
when Orthanc is not installed or does not come up, so the tests skip.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ORTHANC = "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
AET = "CDTEST"
COBBDESK_AET = "COBBDESK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Archive:
    process: subprocess.Popen[bytes]
    dicom_port: int
    http_port: int
    move_port: int
    dicomweb: bool

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def upload(self, path: Path) -> None:
        request = urllib.request.Request(f"{self.url}/instances", data=path.read_bytes(),
                                         method="POST")  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 200

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(folder: Path) -> Archive | str:
    """Start Orthanc with a throwaway configuration in ``folder``; the archive or why not."""
    if not Path(ORTHANC).exists() or shutil.which(ORTHANC) is None:
        return "Orthanc is not installed (apt-get install orthanc orthanc-dicomweb)"
    dicom_port, http_port, move_port = free_port(), free_port(), free_port()
    config = {
        "Name": "cobbdesk-test", "StorageDirectory": str(folder / "db"),
        "IndexDirectory": str(folder / "db"), "DicomAet": AET, "DicomPort": dicom_port,
        "HttpPort": http_port, "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
        "DicomCheckCalledAet": True, "DicomServerEnabled": True,
        "DicomModalities": {"cobbdesk": [COBBDESK_AET, "127.0.0.1", move_port]},
        "DicomScuTimeout": 10, "DicomAssociationCloseDelay": 0, "StableAge": 1,
        "Plugins": [str(DICOMWEB_PLUGIN)] if DICOMWEB_PLUGIN.exists() else [],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }  # fmt: skip
    path = folder / "orthanc.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    with (folder / "orthanc.log").open("wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen([ORTHANC, str(path)], stdout=log, stderr=subprocess.STDOUT)
    archive = Archive(process, dicom_port, http_port, move_port, DICOMWEB_PLUGIN.exists())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"Orthanc exited with status {process.returncode} (see {folder}/orthanc.log)"
        try:
            with urllib.request.urlopen(f"{archive.url}/system", timeout=2):
                return archive
        except OSError:
            time.sleep(0.2)
    archive.stop()
    return "Orthanc did not answer within 20 s"
