from tests.acme.helpers import run_python


def test_empty_path_variables_copied_from_env_example_mean_the_defaults():
    result = run_python(
        ["-c", "from django.conf import settings; print(settings.VAR_DIR, settings.MEDIA_ROOT)"],
        {
            "DEBUG": "true",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "DATABASE_URL": "postgres://u@db/acme",
            "DJANGO_SETTINGS_MODULE": "acme.settings",
            "ACME_VAR_DIR": "",
            "MEDIA_ROOT": "",
        },
    )
    assert result.returncode == 0, result.stderr
    var_dir, media_root = result.stdout.split()
    assert var_dir.endswith("/var")
    assert media_root == var_dir + "/media"
