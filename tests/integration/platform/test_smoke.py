"""The app boots on the selected backend with migrations and demo data."""


def test_demo_admin_logs_in_and_lands_on_enterprises(client, auth):
    """The district admin logs in through the login page and lands on the enterprise list."""
    response = auth.login("admin")
    assert response.status_code == 302
    page = client.get("/", follow_redirects=True)
    assert "企业管理".encode() in page.data


def test_wrong_password_is_refused_with_a_message(client, auth):
    """A wrong password keeps the user on the login page with a message."""
    response = auth.login("admin", "wrong-password")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.get("/api/v1/staff/").status_code == 401
