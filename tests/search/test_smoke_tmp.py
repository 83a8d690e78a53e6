from eakte.services import search as svc

def test_smoke(archive, world):
    with world.session() as s:
        for user in (world.officer, world.clerk, world.clerk_sub, world.clerk_bau, world.scanner, world.admin):
            r = svc.search(s, s.merge(user), world.rt.settings, "Gebühr")
            print(user.username, r.total, sorted(h.key for h in r.hits), r.facets)
        r = svc.search(s, s.merge(world.officer), world.rt.settings, "Gebür")
        print("typo", r.total, r.suggestion, r.fuzzy)
        r = svc.search(s, s.merge(world.officer), world.rt.settings, "*")
        print("all", r.total, sorted(h.key for h in r.hits))
    assert 0
