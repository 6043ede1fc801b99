# The Django ORM on Spin's SQLite, one line per check; tests/python_apps.rs
# runs this with `manage.py shell` in the component (after migrate) and
# compares it with the lines below the script's end.
from django.db import OperationalError, transaction
from django.db.models import Avg, Count, Max

from shop.models import Product, Review

Review.objects.all().delete()
Product.objects.all().delete()
Product.objects.bulk_create([Product(name=f"p{i}", price=i) for i in range(1, 6)])
p3 = Product.objects.get(name="p3")
Review.objects.bulk_create([Review(product=p3, rating=r) for r in (3, 4, 5)])
print("filter:", Product.objects.filter(price__gte=3).count())
print("exclude/order/slice:", list(Product.objects.exclude(price=1).order_by("-price").values_list("name", flat=True)[:2]))
print("aggregate:", Review.objects.aggregate(avg=Avg("rating"), n=Count("id"), top=Max("rating")))
print("select_related:", [(r.product.name, r.rating) for r in Review.objects.select_related("product").order_by("rating")])
print("annotate:", Product.objects.annotate(n=Count("review")).get(name="p3").n)
print("join filter:", list(Product.objects.filter(review__rating__gte=4).distinct().values_list("name", flat=True)))
with transaction.atomic():
    Product.objects.create(name="outer", price=1)
    try:
        with transaction.atomic():
            Product.objects.create(name="inner", price=1)
            raise ValueError("roll the savepoint back")
    except ValueError:
        pass
print("savepoints:", sorted(Product.objects.filter(price=1).values_list("name", flat=True)))
try:
    with transaction.atomic():
        Product.objects.filter(name="p5").update(price=50)
        raise RuntimeError
except RuntimeError:
    pass
print("atomic rollback:", Product.objects.get(name="p5").price)
print("update:", Product.objects.filter(name__in=["p4", "p5"]).update(price=7))
print("decimal:", repr(Product.objects.get(name="p4").price))
try:
    list(Product.objects.filter(name__regex=r"^p\d$"))
except OperationalError as error:
    print("regex:", "create_function" in str(error) and "REGEXP" in str(error).upper())
